// Package storetest gives tests a database to run the store on: a PostgreSQL
// schema of their own when $CONVOSEAL_TEST_DATABASE_URL is set (start one
// with scripts/postgres.sh), so tests run in parallel against one server.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables.
const (
	// URLEnv names the PostgreSQL server tests use, e.g.
	// postgres://postgres@127.0.0.1:5432/convoseal_test?sslmode=disable.
	URLEnv = "CONVOSEAL_TEST_DATABASE_URL"
	// RequireEnv=1 makes a missing URLEnv fail tests instead of skipping
	// their PostgreSQL half (for CI that means to test PostgreSQL).
	RequireEnv = "CONVOSEAL_REQUIRE_POSTGRES"
)

// PostgresURL returns a URL for a fresh, empty schema (dropped when the test
// ends) on the server $CONVOSEAL_TEST_DATABASE_URL names: connections made with
// it have search_path set to that schema. ok is false when the variable is
// unset; then, with $CONVOSEAL_REQUIRE_POSTGRES=1, the test fails instead.
func PostgresURL(t testing.TB) (dsn string, ok bool) {
	t.Helper()
	base := os.Getenv(URLEnv)
	if base == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("$%s=1 but $%s is not set (start a server with: eval \"$(scripts/postgres.sh start)\")", RequireEnv, URLEnv)
		}
		return "", false
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to $%s: %v", URLEnv, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(base, schema), true
}

// WithSearchPath adds search_path=schema to a postgres:// URL or a key=value
// connection string.
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}
