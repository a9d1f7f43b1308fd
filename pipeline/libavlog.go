package pipeline

import (
	"context"
	"log/slog"
	"strings"

	"github.com/asticode/go-astiav"
)

// RouteLibavLogs sends libav's warnings and errors to log, at slog's Warn
// and Error levels, as records with the message "libav" and the line in
// "msg"; libav's quieter levels are dropped. Without it libav writes to
// stderr on its own. The routing is process-wide (libav has one log
// callback): call it once, at start-up, before any stage runs.
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
