// Command notify measures how soon a marker reaches the receivers hlsmark
// tells: a webhook receiver on loopback and an MQTT subscriber on a
// mosquitto it starts. It runs `hlsmark serve` with the checkerboard's
// detector making a marker every --every, and for each marker.created event
// takes the time it arrived minus the marker's program_date_time (the wall
// clock of the frame that shows the event). It prints one JSON line: the
// count, p50, p95, p99 and max in milliseconds for each receiver.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/hlsmark/hlsmark/bench/internal/live"
)

// event is the part of a webhook or MQTT body the measurement reads.
type event struct {
	Type   string `json:"type"`
	Marker struct {
		ID              uint64 `json:"id"`
		ProgramDateTime string `json:"program_date_time"`
	} `json:"marker"`
}

// arrivals collects, per receiver, how long after its frame each marker
// arrived.
type arrivals struct {
	mu   sync.Mutex
	lags map[string][]float64 // milliseconds, by receiver
	bad  error
}

// add records a body that arrived at at through receiver.
func (a *arrivals) add(receiver string, body []byte, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var e event
	if err := json.Unmarshal(body, &e); err != nil {
		a.bad = errors.Join(a.bad, fmt.Errorf("%s: %s: %w", receiver, body, err))
		return
	}
	if e.Type != "marker.created" {
		return
	}
	pdt, err := time.Parse(time.RFC3339Nano, e.Marker.ProgramDateTime)
	if err != nil {
		a.bad = errors.Join(a.bad, fmt.Errorf("%s: marker %d: program_date_time: %w", receiver, e.Marker.ID, err))
		return
	}
	a.lags[receiver] = append(a.lags[receiver], float64(at.Sub(pdt))/float64(time.Millisecond))
}

// summary is one receiver's figures.
type summary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(lags []float64) summary {
	s := slices.Clone(lags)
	slices.Sort(s)
	if len(s) == 0 {
		return summary{}
	}
	return summary{Count: len(s), P50: live.Quantile(s, 0.5), P95: live.Quantile(s, 0.95), P99: live.Quantile(s, 0.99), Max: s[len(s)-1]}
}

func main() {
	bin := flag.String("bin", "bin/hlsmark", "the hlsmark binary")
	seconds := flag.Int("seconds", 60, "how long to stream")
	size := flag.String("size", "1280x720", "frame size")
	preset := flag.String("preset", "veryfast", "x264 preset")
	every := flag.Duration("every", 2*time.Second, "a marker every (at least 1 s more than the event, 500 ms)")
	mosquitto := flag.String("mosquitto", "/usr/sbin/mosquitto", "the MQTT broker to start")
	flag.Parse()
	if err := run(*bin, *seconds, *size, *preset, *every, *mosquitto); err != nil {
		fmt.Fprintln(os.Stderr, "notify:", err)
		os.Exit(1)
	}
}

func run(bin string, seconds int, size, preset string, every time.Duration, mosquitto string) error {
	dir, err := os.MkdirTemp("", "hlsmark-notify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a := &arrivals{lags: map[string][]float64{}}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			a.add("webhook", body, time.Now())
		}
	})}
	go func() { _ = hook.Serve(ln) }()
	defer hook.Close()

	brokerAddr, err := live.FreeAddr()
	if err != nil {
		return err
	}
	broker, err := startBroker(mosquitto, dir, brokerAddr)
	if err != nil {
		return err
	}
	defer func() { _ = broker.Process.Kill(); _ = broker.Wait() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := subscribe(ctx, brokerAddr, "hlsmark/demo/markers", a)
	if err != nil {
		return err
	}
	defer func() { cancel(); <-sub.Done() }()

	addr, err := live.FreeAddr()
	if err != nil {
		return err
	}
	s, err := live.Start(bin, addr, filepath.Join(dir, "data"), filepath.Join(dir, "server.log"),
		"--size", size, "--preset", preset, "--segment", "2s", "--event-fixed", "--event-every", every.String(), "--event-duration", "500ms",
		"--webhook", "http://"+ln.Addr().String()+"/", "--webhook-secret", "bench", "--mqtt", "tcp://"+brokerAddr)
	if err != nil {
		return err
	}
	defer s.Kill()
	if err := s.WaitHealthy(60 * time.Second); err != nil {
		return err
	}
	time.Sleep(time.Duration(seconds) * time.Second)
	if err := s.Stop(30 * time.Second); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bad != nil {
		return a.bad
	}
	out := map[string]any{"seconds": seconds, "size": size, "preset": preset,
		"webhook": summarize(a.lags["webhook"]), "mqtt": summarize(a.lags["mqtt"])}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// startBroker starts mosquitto on addr (loopback) with its configuration
// in dir and waits until it accepts connections.
func startBroker(path, dir, addr string) (*exec.Cmd, error) {
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, []byte("listener "+port+" 127.0.0.1\nallow_anonymous true\nuser root\n"), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "-c", conf)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (scripts/setup test installs it): %w", path, err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd, nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("mosquitto is not listening on %s", addr)
}

// subscribe subscribes QoS 1 to topic on the broker at addr with paho's
// client, every message recorded in a as "mqtt", and waits until it has.
func subscribe(ctx context.Context, addr, topic string, a *arrivals) (*autopaho.ConnectionManager, error) {
	u, err := url.Parse("tcp://" + addr)
	if err != nil {
		return nil, err
	}
	up := make(chan error, 1)
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u},
		KeepAlive:  10,
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			go func() {
				_, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}}})
				select {
				case up <- err:
				default:
				}
			}()
		},
		ClientConfig: paho.ClientConfig{
			ClientID: "hlsmark-bench-notify",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(r paho.PublishReceived) (bool, error) {
				a.add("mqtt", r.Packet.Payload, time.Now())
				return true, nil
			}},
		},
	})
	if err != nil {
		return nil, err
	}
	select {
	case err := <-up:
		if err != nil {
			return nil, fmt.Errorf("subscribe: %w", err)
		}
	case <-time.After(10 * time.Second):
		return nil, errors.New("the MQTT subscriber did not subscribe")
	}
	return cm, nil
}
