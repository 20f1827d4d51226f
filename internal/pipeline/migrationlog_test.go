package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convoseal/convoseal/internal/store"
)

// TestRiverMigrationLogsAtDebug: applying River's migrations logs nothing at
// info level (an operator's default), and its lines at debug level.
func TestRiverMigrationLogsAtDebug(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		db := openStore(t, func(ctx context.Context) (*store.DB, error) {
			return store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "convoseal.db"))
		})
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
		if _, err := NewSQLiteQueue(context.Background(), db.Write, &Pipeline{DB: db}, QueueConfig{}, log); err != nil {
			t.Fatal(err)
		}
		switch out := buf.String(); {
		case level == slog.LevelInfo && strings.Contains(out, "component=river"):
			t.Fatalf("River's migrations log at info level:\n%s", out)
		case level == slog.LevelDebug && !strings.Contains(out, "level=DEBUG"):
			t.Fatalf("no River migration lines at debug level:\n%s", out)
		}
	}
}
