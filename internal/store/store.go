// Package store keeps convoseal's metadata in SQL: SQLite (embedded, through
// modernc.org/sqlite, no cgo) or PostgreSQL (through pgx's database/sql
// driver, for many processes sharing one database). Both run the same queries,
// written once with ? placeholders (rewritten to $n for PostgreSQL), and the
// same migrations. Every query on a tenant's resource is scoped by its account
// SID.
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
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
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
	// Write is the pool every write goes through, and the one the job queue
	// shares. On SQLite it has a single connection (SQLite allows one
	// writer); on PostgreSQL it is the only pool, reads included.
	Write *sql.DB
	// read serves reads: on SQLite a separate read-only pool (WAL lets
	// readers run beside the writer); on PostgreSQL the same pool as Write.
	read    *sql.DB
	now     func() time.Time
	dialect string
	w, r    conn // Write and read, rewriting placeholders for the dialect
}

func newDB(write, read *sql.DB, dialect string) *DB {
	pg := dialect == DialectPostgres
	return &DB{Write: write, read: read, now: time.Now, dialect: dialect, w: conn{write, pg}, r: conn{read, pg}}
}

// Dialect returns DialectSQLite ("sqlite") or DialectPostgres ("postgres").
func (db *DB) Dialect() string { return db.dialect }

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
	db := newDB(w, r, DialectSQLite)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// DefaultPostgresPoolSize is the PostgreSQL pool's size unless the URL sets
// pool_max_conns.
const DefaultPostgresPoolSize = 20

// OpenPostgres connects to the PostgreSQL database at url (a postgres:// URL
// or a key=value DSN that pgx accepts; pool_max_conns sets the pool's size,
// default DefaultPostgresPoolSize) and applies migrations. Many processes may
// open the same database at once: migrations are serialized by an advisory
// lock. Tables go in the connection's current schema (set search_path in the
// URL to choose another).
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url) // strips and reads the pool_* parameters
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	size := DefaultPostgresPoolSize
	if strings.Contains(url, "pool_max_conns") {
		size = int(cfg.MaxConns)
		if size < 4 {
			return nil, fmt.Errorf("database URL: pool_max_conns must be at least 4 (the job queue holds some connections)")
		}
	}
	pool := stdlib.OpenDB(*cfg.ConnConfig)
	pool.SetMaxOpenConns(size)
	pool.SetMaxIdleConns(size)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pool.SetConnMaxLifetime(time.Hour)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL at %s: %w", redactURL(url), err)
	}
	db := newDB(pool, pool, DialectPostgres)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// redactURL hides a password in a postgres:// URL for error messages.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "the configured database"
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return s
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + "@" + rest[at+1:]
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.read == db.Write {
		return db.Write.Close()
	}
	return errors.Join(db.read.Close(), db.Write.Close())
}

// Ping checks the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// migrationLock is the PostgreSQL advisory-lock key that serializes
// migrations between processes ("convoseal" in ASCII).
const migrationLock int64 = 0x636f6e766f7365

// lockMigrations makes concurrent migrators (other processes opening the same
// PostgreSQL database) wait for tx to end. SQLite needs nothing: its write
// transactions are already serialized.
func (db *DB) lockMigrations(ctx context.Context, tx *txn) error {
	if db.dialect != DialectPostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock)
	return err
}

func (db *DB) migrate(ctx context.Context) error {
	err := db.tx(ctx, func(tx *txn) error {
		if err := db.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`)
		return err
	})
	if err != nil {
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
		err := db.tx(ctx, func(tx *txn) error {
			if err := db.lockMigrations(ctx, tx); err != nil {
				return err
			}
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
func (db *DB) tx(ctx context.Context, fn func(*txn) error) error {
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&txn{conn: conn{tx, db.dialect == DialectPostgres}, Tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Tx runs fn in a write transaction; the job queue inserts its jobs on the
// same transaction so a resource and its job commit together. Queries fn runs
// on tx itself are not rewritten for the dialect.
func (db *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.tx(ctx, func(t *txn) error { return fn(t.Tx) })
}

// Page selects one page of a list, newest first.
type Page struct {
	Size  int    // 1..1000
	After string // opaque cursor from a previous page ("" for the first)
	// Before, if set instead of After, selects the rows newer than this
	// cursor: the page before the one that begins with it. Such a page is
	// returned oldest first (the rows nearest the cursor first); the caller
	// reverses it.
	Before string
}

// cursor is "date_created|sid" of the last row of the previous page (After)
// or the first row of the next page (Before).
func (p Page) where(alias string) (string, []any) {
	c, op := p.After, "<"
	if p.Before != "" {
		c, op = p.Before, ">"
	}
	if c == "" {
		return "", nil
	}
	date, sid, ok := strings.Cut(c, "|")
	if !ok {
		return " AND 1=0", nil
	}
	return fmt.Sprintf(" AND (%[1]sdate_created %[2]s ? OR (%[1]sdate_created = ? AND %[1]ssid %[2]s ?))", alias, op), []any{date, date, sid}
}

// order is the ORDER BY of a page: newest first, or oldest first for a
// Before page.
func (p Page) order() string {
	if p.Before != "" {
		return ` ORDER BY date_created, sid`
	}
	return ` ORDER BY date_created DESC, sid DESC`
}

// ValidCursor reports whether s is a cursor this package made. Cursors are the
// same on both dialects (times are stored as the same text on both).
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
