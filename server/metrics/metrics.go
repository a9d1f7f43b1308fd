// Package metrics defines hlsmark's Prometheus metrics and serves them.
//
// The stages report through plain methods of a stream's series
// (FrameEncoded, SegmentPublished, MarkerDetected, ...) that pipeline/stream
// calls from the pipeline's hooks, so no stage imports Prometheus. Every
// Metrics has its own registry: tests make as many as they like.
package metrics

import (
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures the metrics.
type Config struct {
	// Segments are the target segment durations of the streams; the
	// publish latency histogram's buckets are placed around each. None
	// means 2 s.
	Segments []time.Duration
}

// Metrics holds hlsmark's metrics and the registry that serves them: the
// server's, and every stream's, told apart by a stream label. Its methods
// are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	framesEncoded   *prometheus.CounterVec
	framesLate      *prometheus.CounterVec
	framesRejected  *prometheus.CounterVec
	encodeSeconds   *prometheus.HistogramVec
	publishLatency  *prometheus.HistogramVec
	segmentsWritten *prometheus.CounterVec
	segmentsDeleted *prometheus.CounterVec
	segmentsFailed  *prometheus.CounterVec
	segmentsLong    *prometheus.CounterVec
	markersDetected *prometheus.CounterVec
	markersPosted   *prometheus.CounterVec
	markersEdited   *prometheus.CounterVec
	markersDeleted  *prometheus.CounterVec
	rangesUnlisted  *prometheus.CounterVec
	uploadLag       *prometheus.GaugeVec
	uploadsFailed   *prometheus.CounterVec
	uploadSeconds   *prometheus.HistogramVec
	httpRequests    *prometheus.CounterVec
	httpBytes       *prometheus.CounterVec
	httpLimited     *prometheus.CounterVec
}

// byStream is the label of every stream's series.
var byStream = []string{"stream"}

// New returns the metrics in a new registry, with Go's runtime and the
// process's (CPU, resident memory) beside them.
func New(cfg Config) *Metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, byStream)
	}
	m := &Metrics{
		reg:            prometheus.NewRegistry(),
		framesEncoded:  counter("hlsmark_frames_encoded_total", "Frames encoded by libx264."),
		framesLate:     counter("hlsmark_frames_late_total", "Frames the source dropped because it fell more than 100 ms behind its schedule (shorter delays are caught up)."),
		framesRejected: counter("hlsmark_frames_rejected_total", "Frames the encoder refused; each was skipped and the stream went on."),
		encodeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hlsmark_encode_seconds",
			Help: "Time libx264 took per frame: from handing it the YUV picture to having its packets, the muxer's writes excluded.",
			// 0.25 ms to 0.5 s.
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 12),
		}, byStream),
		publishLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hlsmark_segment_publish_latency_seconds",
			Help: "Per segment, the time from the generation of its first frame (the generator clock reading the frame's PTS " +
				"was stamped from) to the moment the playlist lists the segment. It is the largest generation-to-listing " +
				"latency of any frame in the segment.",
			Buckets: latencyBuckets(cfg.Segments),
		}, byStream),
		segmentsWritten: counter("hlsmark_segments_written_total", "MPEG-TS segments written and listed in the playlist."),
		segmentsDeleted: counter("hlsmark_segments_deleted_total", "Segment files deleted after leaving the DVR window and its grace period."),
		segmentsFailed:  counter("hlsmark_segments_failed_total", "Segments lost because writing them to disk failed (disk full, permissions); the stream went on with a discontinuity."),
		segmentsLong:    counter("hlsmark_segments_overlong_total", "Segments longer than EXT-X-TARGETDURATION allows: a copied GOP (--codec copy) outgrew the target, and there was no keyframe to cut at."),
		markersDetected: counter("hlsmark_markers_detected_total", "Markers made from events the detector saw in the frames."),
		markersPosted:   counter("hlsmark_markers_posted_total", "Markers added through the HTTP API."),
		markersEdited:   counter("hlsmark_markers_edited_total", "Markers edited through the HTTP API (PATCH)."),
		markersDeleted:  counter("hlsmark_markers_deleted_total", "Markers deleted through the HTTP API (DELETE)."),
		rangesUnlisted:  counter("hlsmark_dateranges_unlisted_total", "Markers stored but not listed as EXT-X-DATERANGE, because the playlist listed as many as it may (--max-dateranges)."),
		uploadLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hlsmark_upload_lag_seconds",
			Help: "With --segments s3://..., how far uploads to the bucket are behind: the age of the oldest segment or playlist written to disk and not yet uploaded; 0 when none waits.",
		}, byStream),
		uploadsFailed: counter("hlsmark_uploads_failed_total", "With --segments s3://..., requests to the bucket that failed (each is retried with backoff)."),
		uploadSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hlsmark_segment_upload_seconds",
			Help: "With --segments s3://..., per segment, the time from its file complete and the playlist listing it written to disk to its object stored in the bucket, " +
				"waiting behind earlier uploads and retries included.",
			// Around issue 18's target, 300 ms at p99, and up to a store
			// down for a while.
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30},
		}, byStream),
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
			Help: "Requests refused or cut short by a limit, by limit: post_rate (marker posts, edits and deletions per client), list_rate (markers read per client), stream_rate (markers per stream), " +
				"data_bytes, data_depth, body_timeout, replay (event streams caught up only partly), list_bytes (listings cut short).",
		}, []string{"limit"}),
	}
	m.reg.MustRegister(
		m.framesEncoded, m.framesLate, m.framesRejected, m.encodeSeconds, m.publishLatency,
		m.segmentsWritten, m.segmentsDeleted, m.segmentsFailed, m.markersDetected, m.markersPosted,
		m.markersEdited, m.markersDeleted, m.rangesUnlisted, m.segmentsLong, m.httpRequests, m.httpBytes, m.httpLimited,
		m.uploadLag, m.uploadsFailed, m.uploadSeconds,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Stream returns the series of the stream called name, made at once so
// that a scrape shows every stream's counters from their start, at 0.
// Calling it again for the same name returns the same series: a stream
// restarted keeps counting where it was.
func (m *Metrics) Stream(name string) *Stream {
	l := prometheus.Labels{"stream": name}
	return &Stream{
		framesEncoded:   m.framesEncoded.With(l),
		framesLate:      m.framesLate.With(l),
		framesRejected:  m.framesRejected.With(l),
		encodeSeconds:   m.encodeSeconds.With(l),
		publishLatency:  m.publishLatency.With(l),
		segmentsWritten: m.segmentsWritten.With(l),
		segmentsDeleted: m.segmentsDeleted.With(l),
		segmentsFailed:  m.segmentsFailed.With(l),
		segmentsLong:    m.segmentsLong.With(l),
		markersDetected: m.markersDetected.With(l),
		markersPosted:   m.markersPosted.With(l),
		markersEdited:   m.markersEdited.With(l),
		markersDeleted:  m.markersDeleted.With(l),
		rangesUnlisted:  m.rangesUnlisted.With(l),
		uploadLag:       m.uploadLag.With(l),
		uploadsFailed:   m.uploadsFailed.With(l),
		uploadSeconds:   m.uploadSeconds.With(l),
	}
}

// Forget drops the series of the stream called name, for a stream that
// is gone.
func (m *Metrics) Forget(name string) {
	l := prometheus.Labels{"stream": name}
	for _, v := range []interface{ Delete(prometheus.Labels) bool }{
		m.framesEncoded, m.framesLate, m.framesRejected, m.encodeSeconds, m.publishLatency,
		m.segmentsWritten, m.segmentsDeleted, m.segmentsFailed, m.segmentsLong, m.markersDetected, m.markersPosted,
		m.markersEdited, m.markersDeleted, m.rangesUnlisted, m.uploadLag, m.uploadsFailed, m.uploadSeconds,
	} {
		v.Delete(l)
	}
}

// Stream is one stream's series. Its methods are safe for concurrent use.
type Stream struct {
	framesEncoded   prometheus.Counter
	framesLate      prometheus.Counter
	framesRejected  prometheus.Counter
	encodeSeconds   prometheus.Observer
	publishLatency  prometheus.Observer
	segmentsWritten prometheus.Counter
	segmentsDeleted prometheus.Counter
	segmentsFailed  prometheus.Counter
	segmentsLong    prometheus.Counter
	markersDetected prometheus.Counter
	markersPosted   prometheus.Counter
	markersEdited   prometheus.Counter
	markersDeleted  prometheus.Counter
	rangesUnlisted  prometheus.Counter
	uploadLag       prometheus.Gauge
	uploadsFailed   prometheus.Counter
	uploadSeconds   prometheus.Observer
}

// latencyBuckets places the publish latency buckets around each segment
// duration: a segment is listed about its duration after its first frame,
// and the target is to stay within that plus 100 ms.
func latencyBuckets(segments []time.Duration) []float64 {
	if len(segments) == 0 {
		segments = []time.Duration{2 * time.Second}
	}
	var b []float64
	for _, d := range segments {
		seg := d.Seconds()
		b = append(b, seg/4, seg/2, seg*0.9, seg*0.95)
		for _, d := range []float64{0, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5} {
			b = append(b, seg+d)
		}
	}
	slices.Sort(b)
	return slices.Compact(b)
}

// Registry returns the registry the metrics are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// FrameEncoded counts one encoded frame, which libx264 took the given
// time to encode.
func (m *Stream) FrameEncoded(took time.Duration) {
	m.framesEncoded.Inc()
	m.encodeSeconds.Observe(took.Seconds())
}

// FramesLate counts n frames the source dropped for waking up late.
func (m *Stream) FramesLate(n uint64) {
	if n == 0 {
		return
	}
	m.framesLate.Add(float64(n))
}

// SegmentPublished counts a segment the playlist listed at listed, whose
// first frame was generated at first.
func (m *Stream) SegmentPublished(first, listed time.Time) {
	m.segmentsWritten.Inc()
	m.publishLatency.Observe(listed.Sub(first).Seconds())
}

// FrameRejected counts a frame the encoder refused.
func (m *Stream) FrameRejected() {
	m.framesRejected.Inc()
}

// SegmentFailed counts a segment lost to a failed write.
func (m *Stream) SegmentFailed() {
	m.segmentsFailed.Inc()
}

// SegmentOverlong counts a segment that outlasts EXT-X-TARGETDURATION: a
// copied GOP longer than the target.
func (m *Stream) SegmentOverlong() {
	m.segmentsLong.Inc()
}

// SegmentDeleted counts a deleted segment file.
func (m *Stream) SegmentDeleted() {
	m.segmentsDeleted.Inc()
}

// MarkerDetected counts a marker made from a detection.
func (m *Stream) MarkerDetected() {
	m.markersDetected.Inc()
}

// MarkerPosted counts a marker added through the API.
func (m *Stream) MarkerPosted() {
	m.markersPosted.Inc()
}

// MarkerEdited counts a marker edited through the API.
func (m *Stream) MarkerEdited() {
	m.markersEdited.Inc()
}

// MarkerDeleted counts a marker deleted through the API.
func (m *Stream) MarkerDeleted() {
	m.markersDeleted.Inc()
}

// Limited counts a request refused or cut short by the named limit.
func (m *Metrics) Limited(limit string) {
	m.httpLimited.WithLabelValues(limit).Inc()
}

// DateRangeUnlisted counts a marker the playlist did not list for the cap.
func (m *Stream) DateRangeUnlisted() {
	m.rangesUnlisted.Inc()
}

// UploadLag sets how far the stream's uploads to the bucket are behind.
func (m *Stream) UploadLag(lag time.Duration) {
	m.uploadLag.Set(lag.Seconds())
}

// SegmentUploaded records how long a segment took to reach the bucket.
func (m *Stream) SegmentUploaded(took time.Duration) {
	m.uploadSeconds.Observe(took.Seconds())
}

// UploadFailed counts a failed request to the bucket.
func (m *Stream) UploadFailed() {
	m.uploadsFailed.Inc()
}
