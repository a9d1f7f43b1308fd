package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline/clock"
)

// webhookSecret is the secret the webhook tests sign with.
const webhookSecret = "s3cret-for-tests"

// hookEvent is a webhook body as the receiver reads it.
type hookEvent struct {
	Type   string `json:"type"`
	Stream string `json:"stream"`
	Marker struct {
		ID       int64    `json:"id"`
		Label    string   `json:"label"`
		Source   string   `json:"source"`
		Duration *float64 `json:"duration"`
	} `json:"marker"`
}

// attempt is one POST the receiver got.
type attempt struct {
	delivery string
	event    hookEvent
	acked    bool // answered 2xx
}

// receiver is a webhook receiver on loopback: it checks every signature
// with webhookSecret itself (HMAC-SHA256, hex), and answers 500 to its
// first failFirst attempts.
type receiver struct {
	t         *testing.T
	failFirst int

	mu       sync.Mutex
	attempts []attempt
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := r.Header.Get("X-Hlsmark-Signature"); !hmac.Equal([]byte(got), []byte(want)) {
		rc.t.Errorf("signature %q, want %q for %s", got, want, body)
	}
	var e hookEvent
	if err := json.Unmarshal(body, &e); err != nil {
		rc.t.Errorf("body %s: %v", body, err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	a := attempt{delivery: r.Header.Get("X-Hlsmark-Delivery"), event: e, acked: len(rc.attempts) >= rc.failFirst}
	rc.attempts = append(rc.attempts, a)
	if !a.acked {
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// acked returns the attempts answered 2xx, in the order they came.
func (rc *receiver) acked() []attempt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []attempt
	for _, a := range rc.attempts {
		if a.acked {
			out = append(out, a)
		}
	}
	return out
}

// serveReceiver serves rc on addr ("127.0.0.1:0" for any port).
func serveReceiver(t *testing.T, rc *receiver, addr string) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(rc)
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// TestWebhooksDeliverEveryChange runs hlsmark with a webhook whose
// receiver fails its first two attempts: every marker change arrives,
// signed, in the order made, each delivery acknowledged once, the failed
// attempts retried under the same delivery id. Then, with the receiver
// down, markers are posted and hlsmark is killed (SIGKILL) while their
// deliveries are pending; after a restart they arrive.
func TestWebhooksDeliverEveryChange(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	rc := &receiver{t: t, failFirst: 2}
	ts := serveReceiver(t, rc, "127.0.0.1:0")
	hook := []string{"--webhook", ts.URL + "/hook", "--webhook-secret", webhookSecret}
	srv := startServer(t, data, addr, hook...)

	// Detector markers every 2 s (fastStream): each is created, placed and
	// closed with its duration. Wait for three closed ones to be told.
	closed := func(acked []attempt) int {
		n := 0
		for _, a := range acked {
			if a.event.Type == "marker.updated" && a.event.Marker.Source == "detector" && a.event.Marker.Duration != nil {
				n++
			}
		}
		return n
	}
	pollUntil(t, "three detector markers closed at the receiver", 60*time.Second, func() bool { return closed(rc.acked()) >= 3 })
	code, posted := srv.postMarker("posted", int64(srv.markers(t)[0].PTS))
	if code != http.StatusCreated {
		t.Fatalf("post: %d", code)
	}
	pollUntil(t, "the posted marker at the receiver", 30*time.Second, func() bool {
		for _, a := range rc.acked() {
			if a.event.Marker.ID == posted.ID && a.event.Type == "marker.created" {
				return true
			}
		}
		return false
	})

	rc.mu.Lock()
	first := rc.attempts[:3]
	rc.mu.Unlock()
	if first[0].acked || first[1].acked || !first[2].acked {
		t.Fatalf("the first attempts were not answered 500, 500, 200: %+v", first)
	}
	if first[0].delivery == "" || first[1].delivery != first[0].delivery || first[2].delivery != first[0].delivery {
		t.Errorf("a retried delivery changed its id: %q, %q, %q", first[0].delivery, first[1].delivery, first[2].delivery)
	}
	acked := rc.acked()
	seen := map[string]bool{}
	created := map[int64]int{} // marker → index of its created event
	lastCreated := int64(0)
	for i, a := range acked {
		if seen[a.delivery] {
			t.Errorf("delivery %s acknowledged twice", a.delivery)
		}
		seen[a.delivery] = true
		e := a.event
		if e.Stream != "demo" {
			t.Errorf("event %d: stream %q", i, e.Stream)
		}
		switch e.Type {
		case "marker.created":
			if e.Marker.ID <= lastCreated {
				t.Errorf("event %d: marker %d created after marker %d", i, e.Marker.ID, lastCreated)
			}
			lastCreated = e.Marker.ID
			created[e.Marker.ID] = i
		case "marker.updated":
			if _, ok := created[e.Marker.ID]; !ok {
				t.Errorf("event %d: marker %d updated before it was told created", i, e.Marker.ID)
			}
		default:
			t.Errorf("event %d: type %q", i, e.Type)
		}
	}
	// Every stored marker was told, by one created event.
	for _, m := range srv.markers(t) {
		if _, ok := created[m.ID]; !ok && m.ID < lastCreated {
			t.Errorf("marker %d (%s) stored but never told created", m.ID, m.Label)
		}
	}

	// The receiver goes down; posted markers wait in the outbox.
	ts.Close()
	hookAddr := ts.Listener.Addr().String()
	var down []int64
	for _, label := range []string{"while-down-1", "while-down-2"} {
		code, m := srv.postMarker(label, int64(srv.markers(t)[0].PTS))
		if code != http.StatusCreated {
			t.Fatalf("post %s: %d", label, code)
		}
		down = append(down, m.ID)
	}
	pending := regexp.MustCompile(`(?m)^hlsmark_webhook_pending\{stream="demo"\} (\S+)$`)
	pollUntil(t, "the posted markers pending in the outbox", 30*time.Second, func() bool {
		_, b := srv.get("/metrics")
		m := pending.FindSubmatch(b)
		if m == nil {
			return false
		}
		n, err := strconv.ParseFloat(string(m[1]), 64)
		return err == nil && n >= 2
	})
	srv.stop(t, syscall.SIGKILL)

	rc2 := &receiver{t: t}
	serveReceiver(t, rc2, hookAddr)
	srv = startServer(t, data, addr, hook...)
	pollUntil(t, "the markers posted while the receiver was down, after the restart", 60*time.Second, func() bool {
		got := 0
		for _, a := range rc2.acked() {
			for _, id := range down {
				if a.event.Type == "marker.created" && a.event.Marker.ID == id {
					got++
				}
			}
		}
		return got == len(down)
	})
	var order []int64
	for _, a := range rc2.acked() {
		if a.event.Type == "marker.created" {
			order = append(order, a.event.Marker.ID)
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Errorf("after the restart, marker %d created after marker %d", order[i], order[i-1])
		}
	}
	srv.stop(t, syscall.SIGTERM)
}

// TestWebhooksTellChangesStoredBeforeACrash: markers made before webhooks
// were configured are not replayed (a later change to one is told); a marker stored but never put in the
// outbox (the state a kill between the two leaves, made here by writing
// the marker straight into the stopped server's store) is told after the
// restart, once.
func TestWebhooksTellChangesStoredBeforeACrash(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	srv := startServer(t, data, addr)
	pollUntil(t, "a detector marker before webhooks", 60*time.Second, func() bool { return len(srv.markers(t)) > 0 })
	before := map[int64]bool{}
	for _, m := range srv.markers(t) {
		before[m.ID] = true
	}
	srv.stop(t, syscall.SIGTERM)

	rc := &receiver{t: t}
	ts := serveReceiver(t, rc, "127.0.0.1:0")
	hook := []string{"--webhook", ts.URL + "/hook", "--webhook-secret", webhookSecret}
	srv = startServer(t, data, addr, hook...)
	pollUntil(t, "a new marker told", 60*time.Second, func() bool { return len(rc.acked()) > 0 })
	last := srv.markers(t)
	srv.stop(t, syscall.SIGTERM)
	for _, a := range rc.acked() {
		if before[a.event.Marker.ID] && a.event.Type == "marker.created" {
			t.Fatalf("marker %d, made before webhooks were configured, was told created", a.event.Marker.ID)
		}
	}

	store, err := marker.OpenBolt(filepath.Join(data, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	gap, err := store.Add(context.Background(), "demo", marker.Marker{Label: "stored, not told", PTS: clock.Ticks(last[len(last)-1].PTS), Source: marker.FromAPI, Created: time.Now()})
	if cerr := store.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}

	srv = startServer(t, data, addr, hook...)
	told := func() int {
		n := 0
		for _, a := range rc.acked() {
			if a.event.Marker.ID == int64(gap.ID) {
				if a.event.Type != "marker.created" || a.event.Marker.Label != "stored, not told" {
					t.Fatalf("the marker stored before the restart was told as %s %q", a.event.Type, a.event.Marker.Label)
				}
				n++
			}
		}
		return n
	}
	pollUntil(t, "the marker stored but not told, after the restart", 60*time.Second, func() bool { return told() > 0 })
	srv.stop(t, syscall.SIGTERM)
	if n := told(); n != 1 {
		t.Fatalf("the marker stored before the restart was told %d times", n)
	}
}
