// Package metrics defines hlsmark's Prometheus metrics and serves them.
//
// The stages report through plain methods (FrameEncoded, SegmentPublished,
// MarkerDetected, ...) that cmd/hlsmark calls from the pipeline's hooks, so
// no stage imports Prometheus. Every Metrics has its own registry: tests
// make as many as they like.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures the metrics.
type Config struct {
	// Segment is the target segment duration; the publish latency
	// histogram's buckets are placed around it.
	Segment time.Duration
}

// Metrics holds hlsmark's metrics and the registry that serves them. Its
// methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	framesEncoded   prometheus.Counter
	framesLate      prometheus.Counter
	framesRejected  prometheus.Counter
	encodeSeconds   prometheus.Histogram
	publishLatency  prometheus.Histogram
	segmentsWritten prometheus.Counter
	segmentsDeleted prometheus.Counter
	segmentsFailed  prometheus.Counter
	segmentsLong    prometheus.Counter
	markersDetected prometheus.Counter
	markersPosted   prometheus.Counter
	httpRequests    *prometheus.CounterVec
	httpBytes       *prometheus.CounterVec
	httpLimited     *prometheus.CounterVec
	rangesUnlisted  prometheus.Counter
}

// New returns the metrics in a new registry, with Go's runtime and the
// process's (CPU, resident memory) beside them.
func New(cfg Config) *Metrics {
	seg := cfg.Segment.Seconds()
	if seg <= 0 {
		seg = 2
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		framesEncoded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_frames_encoded_total",
			Help: "Frames encoded by libx264.",
		}),
		framesLate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_frames_late_total",
			Help: "Frames the source dropped because it fell more than 100 ms behind its schedule (shorter delays are caught up).",
		}),
		framesRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_frames_rejected_total",
			Help: "Frames the encoder refused; each was skipped and the stream went on.",
		}),
		encodeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hlsmark_encode_seconds",
			Help: "Time libx264 took per frame: from handing it the YUV picture to having its packets, the muxer's writes excluded.",
			// 0.25 ms to 0.5 s.
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 12),
		}),
		publishLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hlsmark_segment_publish_latency_seconds",
			Help: "Per segment, the time from the generation of its first frame (the generator clock reading the frame's PTS " +
				"was stamped from) to the moment the playlist lists the segment. It is the largest generation-to-listing " +
				"latency of any frame in the segment.",
			Buckets: latencyBuckets(seg),
		}),
		segmentsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_segments_written_total",
			Help: "MPEG-TS segments written and listed in the playlist.",
		}),
		segmentsDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_segments_deleted_total",
			Help: "Segment files deleted after leaving the DVR window and its grace period.",
		}),
		segmentsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_segments_failed_total",
			Help: "Segments lost because writing them to disk failed (disk full, permissions); the stream went on with a discontinuity.",
		}),
		segmentsLong: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_segments_overlong_total",
			Help: "Segments longer than EXT-X-TARGETDURATION allows: a copied GOP (--codec copy) outgrew the target, and there was no keyframe to cut at.",
		}),
		markersDetected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_markers_detected_total",
			Help: "Markers made from events the detector saw in the frames.",
		}),
		markersPosted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_markers_posted_total",
			Help: "Markers added through the HTTP API.",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlsmark_http_requests_total",
			Help: `HTTP requests answered, by route template (not path, to bound the series; "unmatched" for no route) and status code.`,
		}, []string{"route", "code"}),
		httpBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlsmark_http_response_bytes_total",
			Help: "Bytes of HTTP response bodies sent, by route template.",
		}, []string{"route"}),
		httpLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlsmark_http_limited_total",
			Help: "Requests refused or cut short by a limit, by limit: post_rate (per client), list_rate (markers read per client), stream_rate (markers per stream), " +
				"data_bytes, data_depth, body_timeout, replay (event streams caught up only partly), list_bytes (listings cut short).",
		}, []string{"limit"}),
		rangesUnlisted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hlsmark_dateranges_unlisted_total",
			Help: "Markers stored but not listed as EXT-X-DATERANGE, because the playlist listed as many as it may (--max-dateranges).",
		}),
	}
	m.reg.MustRegister(
		m.framesEncoded, m.framesLate, m.framesRejected, m.encodeSeconds, m.publishLatency,
		m.segmentsWritten, m.segmentsDeleted, m.segmentsFailed, m.markersDetected, m.markersPosted,
		m.httpRequests, m.httpBytes, m.httpLimited, m.rangesUnlisted, m.segmentsLong,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// latencyBuckets places the publish latency buckets around the segment
// duration seg, in seconds: a segment is listed about seg after its first
// frame, and the target is to stay within seg + 100 ms.
func latencyBuckets(seg float64) []float64 {
	b := []float64{seg / 4, seg / 2, seg * 0.9, seg * 0.95}
	for _, d := range []float64{0, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5} {
		b = append(b, seg+d)
	}
	return b
}

// Registry returns the registry the metrics are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// FrameEncoded counts one encoded frame, which libx264 took the given
// time to encode.
func (m *Metrics) FrameEncoded(took time.Duration) {
	m.framesEncoded.Inc()
	m.encodeSeconds.Observe(took.Seconds())
}

// FramesLate counts n frames the source dropped for waking up late.
func (m *Metrics) FramesLate(n uint64) {
	if n == 0 {
		return
	}
	m.framesLate.Add(float64(n))
}

// SegmentPublished counts a segment the playlist listed at listed, whose
// first frame was generated at first.
func (m *Metrics) SegmentPublished(first, listed time.Time) {
	m.segmentsWritten.Inc()
	m.publishLatency.Observe(listed.Sub(first).Seconds())
}

// FrameRejected counts a frame the encoder refused.
func (m *Metrics) FrameRejected() {
	m.framesRejected.Inc()
}

// SegmentFailed counts a segment lost to a failed write.
func (m *Metrics) SegmentFailed() {
	m.segmentsFailed.Inc()
}

// SegmentOverlong counts a segment that outlasts EXT-X-TARGETDURATION: a
// copied GOP longer than the target.
func (m *Metrics) SegmentOverlong() {
	m.segmentsLong.Inc()
}

// SegmentDeleted counts a deleted segment file.
func (m *Metrics) SegmentDeleted() {
	m.segmentsDeleted.Inc()
}

// MarkerDetected counts a marker made from a detection.
func (m *Metrics) MarkerDetected() {
	m.markersDetected.Inc()
}

// MarkerPosted counts a marker added through the API.
func (m *Metrics) MarkerPosted() {
	m.markersPosted.Inc()
}

// Limited counts a request refused or cut short by the named limit.
func (m *Metrics) Limited(limit string) {
	m.httpLimited.WithLabelValues(limit).Inc()
}

// DateRangeUnlisted counts a marker the playlist did not list for the cap.
func (m *Metrics) DateRangeUnlisted() {
	m.rangesUnlisted.Inc()
}
