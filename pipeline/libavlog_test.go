package pipeline_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/asticode/go-astiav"

	"github.com/hlsmark/hlsmark/pipeline"
)

// TestRouteLibavLogs logs through libav's own av_log at four levels after
// routing: the warning and the error arrive in the slog logger at Warn and
// Error, their newlines trimmed, and the info and debug lines do not.
func TestRouteLibavLogs(t *testing.T) {
	before := astiav.GetLogLevel()
	t.Cleanup(func() {
		astiav.ResetLogCallback()
		astiav.SetLogLevel(before)
	})
	var out bytes.Buffer
	pipeline.RouteLibavLogs(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))

	astiav.Log(nil, astiav.LogLevelDebug, "%s", "route-test debug\n")
	astiav.Log(nil, astiav.LogLevelInfo, "%s", "route-test info\n")
	astiav.Log(nil, astiav.LogLevelWarning, "%s", "route-test warning\n")
	astiav.Log(nil, astiav.LogLevelError, "%s", "route-test error\n")

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.Contains(line, "route-test") {
			_, rest, _ := strings.Cut(line, " level=") // drop the time
			got = append(got, rest)
		}
	}
	want := []string{
		`WARN msg=libav msg="route-test warning"`,
		`ERROR msg=libav msg="route-test error"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("libav's lines in the logger:\n%s\nwant:\n%s\n(everything logged:\n%s)", strings.Join(got, "\n"), strings.Join(want, "\n"), out.String())
	}
}
