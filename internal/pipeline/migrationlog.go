package pipeline

import (
	"context"
	"log/slog"
)

// migrationLog is the logger River's migrator gets: its info lines (one per
// applied migration) are demoted to debug, warnings and errors stay.
func migrationLog(log *slog.Logger) *slog.Logger {
	l := quiet(log)
	return slog.New(demoteInfo{l.Handler()})
}

// demoteInfo is a slog.Handler that passes info records on as debug.
type demoteInfo struct{ slog.Handler }

func (h demoteInfo) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, demote(l))
}

func (h demoteInfo) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h demoteInfo) WithAttrs(as []slog.Attr) slog.Handler {
	return demoteInfo{h.Handler.WithAttrs(as)}
}

func (h demoteInfo) WithGroup(name string) slog.Handler {
	return demoteInfo{h.Handler.WithGroup(name)}
}

func demote(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}
