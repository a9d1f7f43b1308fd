package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hlsmark/hlsmark/marker"
	"github.com/hlsmark/hlsmark/pipeline"
	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/media"
	"github.com/hlsmark/hlsmark/server"
)

// TestMetricsScrape runs a real stream (10 s of video on a fake clock,
// 1 s segments, a 2 s window and no grace beyond RFC 8216's, a segment's
// duration plus the playlist's, so segments are deleted), serves it, makes
// a few requests, then scrapes /metrics and checks every series hlsmark
// promises.
func TestMetricsScrape(t *testing.T) {
	const frames = 300
	dir := t.TempDir()
	c := streamConfig{
		Data: dir, Name: "test", Size: media.Size{Width: 320, Height: 240}, FPS: 30,
		Segment: time.Second, Window: 2 * time.Second, Preset: "ultrafast", Tune: "zerolatency",
		EventEvery: 3 * time.Second, EventDuration: time.Second, EventFixed: true, Seed: 1,
	}
	store, err := marker.OpenBolt(filepath.Join(dir, "markers.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var src *pipeline.Checkerboard
	st, err := newStream(c, clock.NewFake(time.Now(), nil), store, log,
		func(s pipeline.Source) pipeline.Source {
			src = s.(*pipeline.Checkerboard)
			return pipeline.Limit(s, frames)
		})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(server.New(server.Config{
		Streams: server.Fixed{{Name: st.Name(), Playlist: st.Playlist(), Markers: st.Markers()}},
		Logger:  log,
		Metrics: st.Metrics(),
	}))
	defer srv.Close()
	segs := st.Playlist().Segments()
	if len(segs) == 0 {
		t.Fatal("no segment in the playlist")
	}
	for _, path := range []string{"/streams/test/index.m3u8", "/streams/test/" + segs[0].Name(), "/no/such/route", "/healthz"} {
		get(t, srv.URL+path)
	}
	resp, err := http.Post(srv.URL+"/api/streams/test/markers", "application/json",
		bytes.NewReader([]byte(`{"label":"posted","pts":`+strconv.FormatInt(int64(segs[len(segs)-1].FirstPTS.TS()), 10)+`}`)))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("post a marker: %v %v", resp, err)
	}
	resp.Body.Close()
	events := float64(len(src.Events()))

	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(get(t, srv.URL+"/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		f, ok := fams[name]
		if !ok {
			t.Fatalf("no series %s", name)
		}
	metrics:
		for _, m := range f.Metric {
			have := map[string]string{}
			for _, l := range m.Label {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			return metricValue(m)
		}
		t.Fatalf("no series %s%v", name, labels)
		return 0
	}
	// Every stream's series carries its name.
	byStream := map[string]string{"stream": "test"}
	written := value("hlsmark_segments_written_total", byStream)
	for _, c := range []struct {
		name   string
		labels map[string]string
		ok     func(float64) bool
	}{
		{"hlsmark_frames_encoded_total", byStream, func(v float64) bool { return v == frames }},
		{"hlsmark_frames_late_total", byStream, func(v float64) bool { return v == 0 }},
		{"hlsmark_encode_seconds", byStream, func(v float64) bool { return v == frames }},
		{"hlsmark_segments_written_total", byStream, func(v float64) bool { return v >= 4 }},
		{"hlsmark_segment_publish_latency_seconds", byStream, func(v float64) bool { return v == written }},
		{"hlsmark_segments_deleted_total", byStream, func(v float64) bool { return v >= 1 }},
		{"hlsmark_markers_detected_total", byStream, func(v float64) bool { return v == events && v >= 1 }},
		{"hlsmark_markers_posted_total", byStream, func(v float64) bool { return v == 1 }},
		{"hlsmark_frames_rejected_total", byStream, func(v float64) bool { return v == 0 }},
		{"hlsmark_segments_failed_total", byStream, func(v float64) bool { return v == 0 }},
		{"hlsmark_http_requests_total", map[string]string{"route": "/streams/{stream}/index.m3u8", "code": "200"}, func(v float64) bool { return v == 1 }},
		{"hlsmark_http_requests_total", map[string]string{"route": "/streams/{stream}/{segment}", "code": "200"}, func(v float64) bool { return v == 1 }},
		{"hlsmark_http_requests_total", map[string]string{"route": "unmatched", "code": "404"}, func(v float64) bool { return v == 1 }},
		{"hlsmark_http_response_bytes_total", map[string]string{"route": "/streams/{stream}/{segment}"}, func(v float64) bool { return v == float64(segs[0].Size) }},
		{"process_resident_memory_bytes", nil, func(v float64) bool { return v > 0 }},
	} {
		if v := value(c.name, c.labels); !c.ok(v) {
			t.Errorf("%s%v = %v", c.name, c.labels, v)
		}
	}
}

// metricValue is a counter's or gauge's value, or a histogram's count.
func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// get fetches url and returns its body, failing the test on a transport
// error.
func get(t *testing.T, url string) io.Reader {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(body)
}
