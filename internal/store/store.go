// Package store keeps convoseal's metadata in SQL: SQLite (embedded, through
// modernc.org/sqlite, no cgo) today, with portable SQL and migrations so that a
// PostgreSQL dialect can share them. Every query on a tenant's resource is
// scoped by its account SID.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// timeFormat stores times as sortable UTC text.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeFormat, s)
	return t
}

// DB is the metadata store.
type DB struct {
	// Write is the single-connection pool every write goes through (SQLite
	// allows one writer; River shares it).
	Write *sql.DB
	// read serves reads concurrently (WAL lets readers run beside the writer).
	read *sql.DB
	now  func() time.Time
}

// OpenSQLite opens (creating if needed) the SQLite database at path in WAL
// mode with full synchronous commits, and applies migrations.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	// Create the file 0600 first: SQLite gives its -wal and -shm files the
	// database file's permissions.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	} else {
		f.Close()
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=foreign_keys(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	db := &DB{Write: w, read: r, now: time.Now}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.Write.Close())
}

// Ping checks the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.Write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		var version int
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, "migrations/"), "%04d_", &version); err != nil {
			return fmt.Errorf("migration %s: bad name", name)
		}
		err := db.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			for _, stmt := range splitSQL(string(body)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, version, fmtTime(db.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrating: %w", err)
		}
	}
	return nil
}

// splitSQL splits a migration file into statements (no semicolons inside
// literals in our migrations).
func splitSQL(s string) []string {
	var out []string
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	for _, stmt := range strings.Split(b.String(), ";") {
		if strings.TrimSpace(stmt) != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// tx runs fn in a write transaction.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Tx runs fn in a write transaction; the job queue inserts its jobs on the
// same transaction so a resource and its job commit together.
func (db *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error { return db.tx(ctx, fn) }

// Page selects one page of a list, newest first.
type Page struct {
	Size  int    // 1..1000
	After string // opaque cursor from a previous page ("" for the first)
}

// cursor is "date_created|sid" of the last row of the previous page.
func (p Page) where(alias string) (string, []any) {
	if p.After == "" {
		return "", nil
	}
	date, sid, ok := strings.Cut(p.After, "|")
	if !ok {
		return " AND 1=0", nil
	}
	return fmt.Sprintf(" AND (%[1]sdate_created < ? OR (%[1]sdate_created = ? AND %[1]ssid < ?))", alias), []any{date, date, sid}
}

// ValidCursor reports whether s is a cursor this package made.
func ValidCursor(s string) bool {
	date, sid, ok := strings.Cut(s, "|")
	if !ok || len(sid) != 34 {
		return false
	}
	_, err := time.Parse(timeFormat, date)
	return err == nil && convoseal.ValidSID(sid[:2], sid)
}

// Cursor returns the cursor that continues after a row.
func Cursor(dateCreated time.Time, sid string) string { return fmtTime(dateCreated) + "|" + sid }

func isUniqueViolation(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE constraint failed") || strings.Contains(err.Error(), "duplicate key value"))
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return convoseal.ErrNotFound
	}
	return err
}
