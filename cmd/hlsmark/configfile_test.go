package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsmark/hlsmark/pipeline/media"
)

// writeConfig writes a config file into a new folder and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hlsmark.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func noEnv(string) (string, bool) { return "", false }

// TestConfigFileGood reads a file of two streams and checks every value
// it sets, the defaults of what it does not, and that a flag overrides a
// top-level key.
func TestConfigFileGood(t *testing.T) {
	path := writeConfig(t, `
addr: 127.0.0.1:9999
data: /tmp/hlsmark-config-test
token: sekret
cors_origin: [https://a.example, https://b.example]
streams:
  - name: cam-1
    size: 640x480
    fps: 25
    segment: 1s
    window: 30s
    preset: ultrafast
    event_every: 5s
  - name: sim_2
    size: 320x240
    detect: none
`)
	c, err := parseServe([]string{"--config", path, "--addr", "127.0.0.1:7777"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7777" {
		t.Errorf("addr %s: the flag should override the file", c.Addr)
	}
	if c.Data != "/tmp/hlsmark-config-test" || c.Token != "sekret" || strings.Join(c.CORS, " ") != "https://a.example https://b.example" {
		t.Errorf("top-level keys: data %q token %q cors %q", c.Data, c.Token, c.CORS)
	}
	if len(c.Streams) != 2 {
		t.Fatalf("%d streams, want 2", len(c.Streams))
	}
	a, b := c.Streams[0], c.Streams[1]
	if a.Name != "cam-1" || a.Size != (media.Size{Width: 640, Height: 480}) || a.FPS != 25 || a.Segment != time.Second ||
		a.Window != 30*time.Second || a.Preset != "ultrafast" || a.EventEvery != 5*time.Second || a.Data != c.Data {
		t.Errorf("streams[0] = %+v", a)
	}
	if a.Grace != 31*time.Second {
		t.Errorf("streams[0] grace %s, want the least: window + segment = 31s", a.Grace)
	}
	if b.Name != "sim_2" || b.Size != (media.Size{Width: 320, Height: 240}) || b.detector() != nil || b.FPS != 30 || b.Segment != 2*time.Second {
		t.Errorf("streams[1] = %+v (unset keys take the flags' defaults: 30 fps, 2s segments)", b)
	}
}

// TestConfigFileBad: each bad file is refused with one usage error naming
// the file, the line and the key at fault.
func TestConfigFileBad(t *testing.T) {
	for _, c := range []struct {
		name, text string
		args       []string
		want       string // what the message must hold after "FILE:"
	}{
		{"unknown stream key", "streams:\n  - name: a\n    colour: red\n", nil, `:3: streams[0] (a): key colour: unknown`},
		{"unknown top-level key", "adress: x\nstreams:\n  - name: a\n", nil, `:1: key adress: unknown`},
		{"stream key at the top", "size: 640x480\nstreams:\n  - name: a\n", nil, `:1: key size: a stream's setting`},
		{"duplicate name", "streams:\n  - name: a\n  - name: b\n  - name: a\n", nil, `:4: streams[2]: name a: taken by streams[0]`},
		{"key given twice", "streams:\n  - name: a\n    fps: 25\n    fps: 30\n", nil, `:4: key fps: given twice (first on line 3)`},
		{"bad size", "streams:\n  - name: a\n    size: big\n", nil, `:3: streams[0] (a): key size`},
		{"bad number", "streams:\n  - name: a\n    fps: fast\n", nil, `:3: streams[0] (a): key fps: invalid value "fast"`},
		{"bad duration", "streams:\n  - name: a\n    segment: 50ms\n", nil, `:3: streams[0] (a): key segment 50ms: must be from 100ms to 1m`},
		{"upper-case name", "streams:\n  - name: Cam\n", nil, `:2: streams[0] (Cam): key name "Cam"`},
		{"no name", "streams:\n  - fps: 25\n", nil, `:2: streams[0]: no name`},
		{"no streams", "addr: 127.0.0.1:1\n", nil, `:1: no streams: list`},
		{"streams not a list", "streams: cam\n", nil, `:1: key streams: want a list`},
		{"a list for a scalar", "streams:\n  - name: a\n    fps: [1, 2]\n", nil, `:3: key fps: want a single value`},
		{"two on standard input", "streams:\n  - name: a\n    input: '-'\n  - name: b\n    input: pipe:0\n", nil, `:5: streams[1] (b): key input: standard input is streams[0]'s already`},
		{"not YAML", "streams:\n  - name: a\n   fps: 1\n", nil, `.yaml:1: did not find expected`},
		{"stream flag with --config", "streams:\n  - name: a\n", []string{"--fps", "25"}, `--fps: a stream's setting; with --config`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, c.text)
			_, err := parseServe(append([]string{"--config", path}, c.args...), noEnv)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !strings.Contains(ue.msg, c.want) || (c.args == nil && !strings.HasPrefix(ue.msg, path) && !strings.Contains(ue.msg, path)) {
				t.Fatalf("message %q\nwant it to name %s and hold %q", ue.msg, path, c.want)
			}
			if strings.Contains(ue.msg, "\n") {
				t.Fatalf("message on more than one line: %q", ue.msg)
			}
		})
	}
}

// TestExampleConfig: the config file the README shows parses, into its
// three streams.
func TestExampleConfig(t *testing.T) {
	c, err := parseServe([]string{"--config", filepath.Join("..", "..", "examples", "hlsmark.yaml")}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range c.Streams {
		names = append(names, st.Name)
	}
	if strings.Join(names, " ") != "demo small motion" {
		t.Fatalf("examples/hlsmark.yaml makes streams %q", names)
	}
}

// TestConfigFileNotifications reads the notification keys of a config
// file: a list of webhooks, their secret and the MQTT broker, server-wide.
func TestConfigFileNotifications(t *testing.T) {
	path := writeConfig(t, `
webhook: [http://127.0.0.1:9/a, https://hooks.example/b]
webhook_secret: shh
mqtt: ssl://bob:pw@broker.example:8883
streams:
  - name: cam
`)
	c, err := parseServe([]string{"--config", path}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notify
	if strings.Join(n.Webhooks, " ") != "http://127.0.0.1:9/a https://hooks.example/b" || n.WebhookSecret != "shh" {
		t.Errorf("webhooks %q, secret %q", n.Webhooks, n.WebhookSecret)
	}
	if n.MQTT == nil || n.MQTT.Host != "broker.example:8883" || n.MQTT.User.Username() != "bob" {
		t.Errorf("mqtt %v", n.MQTT)
	}
	bad := writeConfig(t, "webhook: ftp://x\nwebhook_secret: s\nstreams:\n  - name: cam\n")
	if _, err := parseServe([]string{"--config", bad}, noEnv); err == nil || !strings.Contains(err.Error(), ":1: key webhook") {
		t.Errorf("a bad webhook in the file: %v, want the line and key named", err)
	}
}
