package store

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
)

// firstAccountLock is the PostgreSQL advisory-lock key that serializes
// CreateFirstAccount between processes ("convofa" in ASCII).
const firstAccountLock int64 = 0x636f6e766f6661

// CreateFirstAccount inserts a when the database has no account yet, and
// reports whether it did. Processes starting together on one database each
// call it, and exactly one creates the account: on PostgreSQL the check and
// the insert run in one transaction holding a transaction-level advisory lock
// (so the next caller's count sees the committed account); on SQLite the
// write transaction (BEGIN IMMEDIATE) already holds the database's one write
// lock. Accounts created otherwise (CreateAccount) do not take the lock.
func (db *DB) CreateFirstAccount(ctx context.Context, a *convoseal.Account) (created bool, err error) {
	err = db.tx(ctx, func(tx *txn) error {
		if tx.pg {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, firstAccountLock); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		now := db.now()
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (sid, friendly_name, auth_token_hash, auth_token_sealed, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?)`,
			a.SID, a.FriendlyName, string(a.AuthTokenHash), a.AuthTokenSealed, fmtTime(now), fmtTime(now))
		if isUniqueViolation(err) {
			return fmt.Errorf("account %s: %w", a.SID, convoseal.ErrConflict)
		}
		if err != nil {
			return err
		}
		a.DateCreated, a.DateUpdated = now, now
		created = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// Migration is one of the store's schema migrations.
type Migration struct {
	Version int
	Name    string    // the file's name without .sql, e.g. "0001_init"
	Applied time.Time // zero when not applied
}

// KnownMigrations lists the migrations built into this binary, in order.
func KnownMigrations() []Migration {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		name = strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		var version int
		if _, err := fmt.Sscanf(name, "%04d_", &version); err != nil {
			continue // migrate refuses such a file
		}
		out = append(out, Migration{Version: version, Name: name})
	}
	return out
}

// AppliedMigrations lists the migrations recorded in the database, oldest
// version first, with the time each was applied (by the clock of the process
// that applied it). A version this binary does not know (the database was
// migrated by a newer one) has an empty Name.
func (db *DB) AppliedMigrations(ctx context.Context) ([]Migration, error) {
	names := map[int]string{}
	for _, m := range KnownMigrations() {
		names[m.Version] = m.Name
	}
	rows, err := db.r.QueryContext(ctx, `SELECT version, applied FROM schema_migrations ORDER BY version`)
	return collect(rows, err, func(r rowScanner) (Migration, error) {
		var m Migration
		var applied string
		err := r.Scan(&m.Version, &applied)
		m.Name, m.Applied = names[m.Version], parseTime(applied)
		return m, err
	})
}
