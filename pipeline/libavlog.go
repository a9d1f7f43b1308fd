package pipeline

import (
	"context"
	"log/slog"
	"strings"

	"github.com/asticode/go-astiav"
)

// RouteLibavLogs sends libav's warnings and errors to log instead of
// stderr, and silences its chatter below warnings (libx264's statistics).
func RouteLibavLogs(log *slog.Logger) {
	astiav.SetLogLevel(astiav.LogLevelWarning)
	astiav.SetLogCallback(func(_ astiav.Classer, l astiav.LogLevel, _, msg string) {
		lvl := slog.LevelWarn
		if l <= astiav.LogLevelError {
			lvl = slog.LevelError
		}
		log.Log(context.Background(), lvl, "libav", "msg", strings.TrimSpace(msg))
	})
}
