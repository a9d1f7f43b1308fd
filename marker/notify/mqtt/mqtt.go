// Package mqtt publishes marker events and stream states to an MQTT
// broker (--mqtt): each event QoS 1 to hlsmark/{stream}/markers, each
// stream state retained, QoS 1, to hlsmark/{stream}/state. The connection
// is autopaho's, which reconnects on its own; messages made while the
// broker is away wait in a bounded queue and are published, in order,
// once it is back.
package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hlsmark/hlsmark/marker/notify"
)

// DefaultQueue is how many messages wait for the broker by default.
const DefaultQueue = 10000

// Config configures a Publisher.
type Config struct {
	// URL is the broker: tcp://host:port or ssl://host:port, with the user
	// and password in it unless User is set.
	URL *url.URL
	// User and Password, if User is set, log in instead of the URL's.
	User, Password string
	// Queue bounds the messages waiting for the broker; zero means
	// DefaultQueue.
	Queue int
	// Metrics, if set, is where messages are counted.
	Metrics prometheus.Registerer
	Log     *slog.Logger
}

// Publisher publishes events to the broker.
type Publisher struct {
	cfg   Config
	queue chan message

	published, dropped prometheus.Counter
}

// message is one publication waiting for the broker.
type message struct {
	topic   string
	payload []byte
	retain  bool
}

// New returns a publisher; Run connects and publishes.
func New(cfg Config) (*Publisher, error) {
	switch cfg.URL.Scheme {
	case "tcp", "ssl":
	default:
		return nil, fmt.Errorf("%s: want tcp:// or ssl://", cfg.URL.Redacted())
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	p := &Publisher{
		cfg:   cfg,
		queue: make(chan message, cfg.Queue),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_mqtt_published_total", Help: "MQTT messages the broker acknowledged (QoS 1).",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_mqtt_dropped_total", Help: "MQTT messages dropped because the queue waiting for the broker was full.",
		}),
	}
	if cfg.Metrics != nil {
		for _, c := range []prometheus.Collector{p.published, p.dropped} {
			if err := cfg.Metrics.Register(c); err != nil {
				return nil, fmt.Errorf("mqtt metrics: %w", err)
			}
		}
	}
	return p, nil
}

// Notify queues the event for hlsmark/{stream}/markers. It never waits:
// with the queue full (the broker away for long), the event is dropped,
// counted and logged; the webhook outbox, not MQTT, is the durable way.
func (p *Publisher) Notify(_ context.Context, e notify.Event) error {
	body, err := e.Body()
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	p.enqueue(message{topic: "hlsmark/" + e.Stream + "/markers", payload: body})
	return nil
}

// State queues a stream's state (its JSON as GET /api/streams lists it)
// for hlsmark/{stream}/state, retained: a new subscriber gets the last.
func (p *Publisher) State(stream string, state []byte) {
	p.enqueue(message{topic: "hlsmark/" + stream + "/state", payload: state, retain: true})
}

func (p *Publisher) enqueue(m message) {
	select {
	case p.queue <- m:
	default:
		p.dropped.Inc()
		p.cfg.Log.Warn("mqtt queue full: message dropped", "topic", m.topic, "queue", p.cfg.Queue)
	}
}

// Run connects to the broker, keeps connecting while it is away, and
// publishes the queue in order until ctx is done. A message whose
// publication fails (the connection lost before the broker's PUBACK) is
// sent again after the reconnection: at least once.
func (p *Publisher) Run(ctx context.Context) error {
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{p.cfg.URL},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ReconnectBackoff:              autopaho.NewExponentialBackoff(500*time.Millisecond, 30*time.Second, time.Second, 2),
		OnConnectionUp: func(*autopaho.ConnectionManager, *paho.Connack) {
			p.cfg.Log.Info("mqtt connected", "broker", p.cfg.URL.Redacted())
		},
		OnConnectError: func(err error) { p.cfg.Log.Warn("mqtt", "broker", p.cfg.URL.Redacted(), "err", err) },
		ClientConfig:   paho.ClientConfig{ClientID: "hlsmark-" + randomID()},
	}
	user, pass := p.cfg.URL.User.Username(), ""
	if pw, ok := p.cfg.URL.User.Password(); ok {
		pass = pw
	}
	if p.cfg.User != "" {
		user, pass = p.cfg.User, p.cfg.Password
	}
	if user != "" {
		cfg.ConnectUsername, cfg.ConnectPassword = user, []byte(pass)
	}
	cm, err := autopaho.NewConnection(ctx, cfg)
	if err != nil {
		return fmt.Errorf("mqtt %s: %w", p.cfg.URL.Redacted(), err)
	}
	defer func() { <-cm.Done() }() // autopaho stops when ctx ends
	for {
		select {
		case m := <-p.queue:
			if !p.publish(ctx, cm, m) {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// publish sends m until the broker acknowledges it; false if ctx ended.
func (p *Publisher) publish(ctx context.Context, cm *autopaho.ConnectionManager, m message) bool {
	for {
		if err := cm.AwaitConnection(ctx); err != nil {
			return false
		}
		_, err := cm.Publish(ctx, &paho.Publish{Topic: m.topic, Payload: m.payload, QoS: 1, Retain: m.retain})
		if err == nil {
			p.published.Inc()
			return true
		}
		p.cfg.Log.Warn("mqtt publish failed: sent again once connected", "topic", m.topic, "err", err)
		// The connection is going down: give autopaho a moment to see it
		// before AwaitConnection is asked again.
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
}

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
