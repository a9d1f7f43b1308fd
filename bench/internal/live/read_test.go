package live

import "testing"

// exposition is a Prometheus text exposition as hlsmark serves it, with a
// route template in a label value.
const exposition = `# HELP hlsmark_http_requests_total HTTP requests answered.
# TYPE hlsmark_http_requests_total counter
hlsmark_http_requests_total{code="200",route="/streams/{stream}/index.m3u8"} 124
hlsmark_http_requests_total{code="503",route="/api/streams/{stream}/markers/events"} 1
hlsmark_http_requests_total_extra 7
hlsmark_frames_late_total 42
`

var casesSeries = []struct {
	name, metric string
	want         map[string]float64
}{
	{"braces in a label value", "hlsmark_http_requests_total", map[string]float64{
		`{code="200",route="/streams/{stream}/index.m3u8"}`:         124,
		`{code="503",route="/api/streams/{stream}/markers/events"}`: 1,
	}},
	{"unlabelled", "hlsmark_frames_late_total", map[string]float64{"": 42}},
	{"absent", "hlsmark_nothing_total", map[string]float64{}},
}

func TestSeries(t *testing.T) {
	for _, c := range casesSeries {
		t.Run(c.name, func(t *testing.T) {
			got := Series([]byte(exposition), c.metric)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s: got %v, want %v", k, got[k], v)
				}
			}
		})
	}
}
