package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// mosquittoPath is Debian's broker (scripts/setup test installs it).
const mosquittoPath = "/usr/sbin/mosquitto"

// broker is a mosquitto the test runs on loopback, its sessions kept in
// dir across restarts.
type broker struct {
	dir, addr string
	cmd       *exec.Cmd
}

// startBroker starts mosquitto on addr with its configuration and
// persistence in dir, and waits until it accepts connections.
func startBroker(t *testing.T, dir, addr string) *broker {
	t.Helper()
	if _, err := os.Stat(mosquittoPath); err != nil {
		t.Fatalf("mosquitto is required (scripts/setup test installs it): %v", err)
	}
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "mosquitto.conf")
	// user root: run as root, mosquitto would otherwise become the user
	// mosquitto, which may not write dir.
	text := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nuser root\n", port, dir)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &broker{dir: dir, addr: addr, cmd: exec.Command(mosquittoPath, "-c", conf)}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			_ = b.cmd.Process.Kill()
			_ = b.cmd.Wait()
		}
	})
	pollUntil(t, "mosquitto listening on "+addr, 10*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return b
}

// stop stops the broker by its pid (SIGTERM: it saves its sessions).
func (b *broker) stop(t *testing.T) {
	t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	_ = b.cmd.Wait()
}

// mqttMessage is one message the test's subscriber got.
type mqttMessage struct {
	topic   string
	payload []byte
	retain  bool
}

// subscriber is an MQTT client (paho's, not hlsmark's code) subscribed
// QoS 1 to topics, with a session the broker keeps for an hour: messages
// published while it reconnects wait for it.
type subscriber struct {
	mu   sync.Mutex
	msgs []mqttMessage
	up   chan struct{} // a value each time it has subscribed
}

func subscribe(t *testing.T, addr string, topics ...string) *subscriber {
	t.Helper()
	s := &subscriber{up: make(chan struct{}, 16)}
	var subs []paho.SubscribeOptions
	for _, topic := range topics {
		subs = append(subs, paho.SubscribeOptions{Topic: topic, QoS: 1})
	}
	u, _ := url.Parse("tcp://" + addr)
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     10,
		CleanStartOnInitialConnection: true,
		SessionExpiryInterval:         3600,
		ReconnectBackoff:              autopaho.NewConstantBackoff(200 * time.Millisecond),
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			go func() {
				if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs}); err == nil {
					s.up <- struct{}{}
				}
			}()
		},
		ClientConfig: paho.ClientConfig{
			ClientID: "hlsmark-test-subscriber",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(r paho.PublishReceived) (bool, error) {
				s.mu.Lock()
				s.msgs = append(s.msgs, mqttMessage{r.Packet.Topic, r.Packet.Payload, r.Packet.Retain})
				s.mu.Unlock()
				return true, nil
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-cm.Done()
	})
	select {
	case <-s.up:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber did not subscribe")
	}
	return s
}

// messages returns what the subscriber got on topic.
func (s *subscriber) messages(topic string) []mqttMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mqttMessage
	for _, m := range s.msgs {
		if m.topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// createdIDs returns the markers of the marker.created events got on
// topic, in the order they came.
func (s *subscriber) createdIDs(t *testing.T, topic string) []int64 {
	var out []int64
	for _, m := range s.messages(topic) {
		var e hookEvent
		if err := json.Unmarshal(m.payload, &e); err != nil {
			t.Fatalf("%s: %s: %v", topic, m.payload, err)
		}
		if e.Stream != "demo" {
			t.Errorf("%s: stream %q", topic, e.Stream)
		}
		if e.Type == "marker.created" {
			out = append(out, e.Marker.ID)
		}
	}
	return out
}

// TestMQTTPublishesMarkersAcrossBrokerRestart runs hlsmark with --mqtt
// against Debian's mosquitto: a subscriber gets the stream's state,
// retained, and each marker event; the broker is stopped, markers are
// posted meanwhile, and it is started again: those markers and the ones
// posted after still arrive.
func TestMQTTPublishesMarkersAcrossBrokerRestart(t *testing.T) {
	dir, brokerAddr := t.TempDir(), freeAddr(t)
	b := startBroker(t, dir, brokerAddr)
	markersTopic, stateTopic := "hlsmark/demo/markers", "hlsmark/demo/state"
	sub := subscribe(t, brokerAddr, markersTopic, stateTopic)
	srv := startServer(t, t.TempDir(), freeAddr(t), "--mqtt", "tcp://"+brokerAddr)

	pollUntil(t, "the stream's state", 30*time.Second, func() bool { return len(sub.messages(stateTopic)) > 0 })
	st := sub.messages(stateTopic)[0]
	var state struct{ Name, State string }
	if err := json.Unmarshal(st.payload, &state); err != nil || state.Name != "demo" || state.State == "" {
		t.Errorf("state message %s: %v", st.payload, err)
	}

	// Markers posted at the PTS of the first detector marker (fastStream
	// makes one every 2 s): in the window, and 201 whatever the broker.
	pollUntil(t, "a detector marker", 30*time.Second, func() bool { return len(srv.markers(t)) > 0 })
	pts := srv.markers(t)[0].PTS
	post := func(label string) int64 {
		t.Helper()
		code, m := srv.postMarker(label, pts)
		if code != http.StatusCreated {
			t.Fatalf("post %s: %d", label, code)
		}
		return m.ID
	}
	want := []int64{post("before-1"), post("before-2")}
	pollUntil(t, "the first markers", 30*time.Second, func() bool { return len(sub.createdIDs(t, markersTopic)) >= len(want) })

	b.stop(t)
	want = append(want, post("broker-down-1"), post("broker-down-2"))
	startBroker(t, dir, brokerAddr)
	<-sub.up // resubscribed after the restart
	want = append(want, post("after-restart"))
	pollUntil(t, "every marker after the broker's restart", 60*time.Second, func() bool {
		got := map[int64]bool{}
		for _, id := range sub.createdIDs(t, markersTopic) {
			got[id] = true
		}
		for _, id := range want {
			if !got[id] {
				return false
			}
		}
		return true
	})
	srv.stop(t, syscall.SIGTERM)
}
