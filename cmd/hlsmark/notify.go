package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/marker/notify"
	"github.com/hlsmark/hlsmark/marker/notify/mqtt"
	"github.com/hlsmark/hlsmark/marker/notify/webhook"
	"github.com/hlsmark/hlsmark/server"
	"github.com/hlsmark/hlsmark/server/metrics"
)

// notifyConfig is where serve tells of marker changes: webhooks and an
// MQTT broker, server-wide.
type notifyConfig struct {
	Webhooks      []string
	WebhookSecret string
	MQTT          *url.URL
	MQTTUser      string
	MQTTPassword  string
}

// notifyFlags registers the flags of notifyConfig, checking each value as
// it is given.
func notifyFlags(fs *flag.FlagSet, c *notifyConfig) {
	fs.Func("webhook", "`URL` (http or https) to POST every marker change to, signed with --webhook-secret; repeat for several", func(s string) error {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("want an http:// or https:// URL")
		}
		c.Webhooks = append(c.Webhooks, s)
		return nil
	})
	fs.StringVar(&c.WebhookSecret, "webhook-secret", "", "`secret` keying each webhook body's X-Hlsmark-Signature (HMAC-SHA256)")
	fs.Func("mqtt", "MQTT broker `URL` (tcp://host:port or ssl://host:port, user:password@ allowed) to publish marker changes and stream states to", func(s string) error {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "tcp" && u.Scheme != "ssl") || u.Hostname() == "" || u.Port() == "" {
			return fmt.Errorf("want tcp://host:port or ssl://host:port")
		}
		c.MQTT = u
		return nil
	})
	fs.StringVar(&c.MQTTUser, "mqtt-user", "", "MQTT `user`, instead of the URL's")
	fs.StringVar(&c.MQTTPassword, "mqtt-password", "", "MQTT `password`, instead of the URL's")
}

// validate checks what the flags do not check one by one.
func (c notifyConfig) validate() error {
	switch {
	case c.WebhookSecret != "" && len(c.Webhooks) == 0:
		return usagef("--webhook-secret: no --webhook to sign for")
	case len(c.Webhooks) > 0 && c.WebhookSecret == "":
		return usagef("--webhook: give --webhook-secret too, for receivers to check the signature")
	case (c.MQTTUser != "" || c.MQTTPassword != "") && c.MQTT == nil:
		return usagef("--mqtt-user, --mqtt-password: no --mqtt broker")
	}
	return nil
}

// notifier tells webhooks and MQTT of marker changes, and MQTT of stream
// states.
type notifier struct {
	webhooks *webhook.Webhooks
	mqtt     *mqtt.Publisher
	log      *slog.Logger
	wg       sync.WaitGroup
}

// newNotifier returns the notifier c describes, its webhook outbox in
// the bbolt file outbox, counted in m; nil if c names nothing.
func newNotifier(c notifyConfig, outbox *bolt.DB, m *metrics.Metrics, log *slog.Logger) (*notifier, error) {
	if len(c.Webhooks) == 0 && c.MQTT == nil {
		return nil, nil
	}
	n := &notifier{log: log}
	var err error
	if len(c.Webhooks) > 0 {
		n.webhooks, err = webhook.New(webhook.Config{URLs: c.Webhooks, Secret: c.WebhookSecret, DB: outbox, Metrics: m.Registry(), Log: log})
		if err != nil {
			return nil, err
		}
	}
	if c.MQTT != nil {
		n.mqtt, err = mqtt.New(mqtt.Config{URL: c.MQTT, User: c.MQTTUser, Password: c.MQTTPassword, Metrics: m.Registry(), Log: log})
		if err != nil {
			return nil, err
		}
	}
	return n, nil
}

// run starts delivering until ctx is done, publishing the states of
// streams to MQTT; wait waits for the end.
func (n *notifier) run(ctx context.Context, streams server.Streams) {
	if n.webhooks != nil {
		n.wg.Go(func() {
			if err := n.webhooks.Run(ctx); err != nil {
				n.log.Error("webhooks stopped", "err", err)
			}
		})
	}
	if n.mqtt != nil {
		n.wg.Go(func() {
			if err := n.mqtt.Run(ctx); err != nil {
				n.log.Error("mqtt stopped", "err", err)
			}
		})
		n.wg.Go(func() { n.publishStates(ctx, streams) })
	}
}

// wait waits for run's goroutines to end.
func (n *notifier) wait() { n.wg.Wait() }

// Resume implements stream.MarkerNotifier: the webhooks tell of the
// changes an earlier run stored but did not put in the outbox.
func (n *notifier) Resume(ctx context.Context, svc *marker.Service) error {
	if n.webhooks == nil {
		return nil
	}
	return n.webhooks.Resume(ctx, svc.Store(), svc.Stream(), func(c marker.Change) (notify.Event, error) { return event(svc, c) })
}

// Changed implements stream.MarkerNotifier: the event, with the marker as
// the API shows it, is written to the webhook outbox (durably, before the
// change is acknowledged) and queued for MQTT.
func (n *notifier) Changed(ctx context.Context, svc *marker.Service, c marker.Change) error {
	e, err := event(svc, c)
	if err != nil {
		return err
	}
	if n.webhooks != nil {
		if err := n.webhooks.Notify(ctx, e); err != nil {
			return err
		}
	}
	if n.mqtt != nil {
		return n.mqtt.Notify(ctx, e)
	}
	return nil
}

// event is the event telling of c, the marker as the API shows it.
func event(svc *marker.Service, c marker.Change) (notify.Event, error) {
	m, err := server.MarkerJSON(svc, c.Marker)
	if err != nil {
		return notify.Event{}, fmt.Errorf("marker %d: %w", c.Marker.ID, err)
	}
	return notify.Event{Type: c.Kind, Stream: c.Stream, Marker: m, Rev: c.Marker.Rev}, nil
}

// statePoll is how often stream states are read for MQTT: a state (a
// supervisor's starting, failed, reconnecting) has no event of its own.
const statePoll = time.Second

// publishStates publishes each stream's state when it changes, and once
// at the start, until ctx is done.
func (n *notifier) publishStates(ctx context.Context, streams server.Streams) {
	last := map[string]string{}
	t := time.NewTicker(statePoll)
	defer t.Stop()
	for {
		for _, st := range streams.All() {
			b, state, err := server.StreamJSON(st)
			if err != nil {
				n.log.Error("mqtt state", "stream", st.Name, "err", err)
				continue
			}
			if s, ok := last[st.Name]; !ok || s != state {
				last[st.Name] = state
				n.mqtt.State(st.Name, b)
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
