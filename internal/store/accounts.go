package store

import (
	"context"
	"fmt"

	"github.com/convoseal/convoseal"
)

// CreateAccount inserts an account.
func (db *DB) CreateAccount(ctx context.Context, a *convoseal.Account) error {
	now := db.now()
	a.DateCreated, a.DateUpdated = now, now
	_, err := db.w.ExecContext(ctx, `INSERT INTO accounts (sid, friendly_name, auth_token_hash, auth_token_sealed, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?)`,
		a.SID, a.FriendlyName, string(a.AuthTokenHash), a.AuthTokenSealed, fmtTime(now), fmtTime(now))
	if isUniqueViolation(err) {
		return fmt.Errorf("account %s: %w", a.SID, convoseal.ErrConflict)
	}
	return err
}

// GetAccount returns an account by SID.
func (db *DB) GetAccount(ctx context.Context, sid string) (*convoseal.Account, error) {
	var a convoseal.Account
	var hash, created, updated string
	err := db.r.QueryRowContext(ctx, `SELECT sid, friendly_name, auth_token_hash, auth_token_sealed, date_created, date_updated FROM accounts WHERE sid = ?`, sid).
		Scan(&a.SID, &a.FriendlyName, &hash, &a.AuthTokenSealed, &created, &updated)
	if err != nil {
		return nil, notFound(err)
	}
	a.AuthTokenHash, a.DateCreated, a.DateUpdated = []byte(hash), parseTime(created), parseTime(updated)
	return &a, nil
}

// ListAccounts returns every account, oldest first.
func (db *DB) ListAccounts(ctx context.Context) ([]*convoseal.Account, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT sid, friendly_name, date_created, date_updated FROM accounts ORDER BY date_created, sid`)
	return collect(rows, err, func(r rowScanner) (*convoseal.Account, error) {
		var a convoseal.Account
		var created, updated string
		err := r.Scan(&a.SID, &a.FriendlyName, &created, &updated)
		a.DateCreated, a.DateUpdated = parseTime(created), parseTime(updated)
		return &a, err
	})
}

// CountAccounts returns how many accounts exist.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n)
	return n, err
}

// SetAuthToken replaces an account's token hash and sealed token (rotation).
func (db *DB) SetAuthToken(ctx context.Context, sid string, hash []byte, sealed string) error {
	return db.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET auth_token_hash = ?, auth_token_sealed = ?, date_updated = ? WHERE sid = ?`, string(hash), sealed, fmtTime(db.now()), sid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return convoseal.ErrNotFound
		}
		return nil
	})
}
