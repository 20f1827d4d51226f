package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/convoseal/convoseal"
)

const publicKeyCols = `sid, account_sid, friendly_name, pem, fingerprint, date_created, date_updated`

func scanPublicKey(s rowScanner) (*convoseal.PublicKey, error) {
	var k convoseal.PublicKey
	var created, updated string
	if err := s.Scan(&k.SID, &k.AccountSID, &k.FriendlyName, &k.PEM, &k.Fingerprint, &created, &updated); err != nil {
		return nil, err
	}
	k.DateCreated, k.DateUpdated = parseTime(created), parseTime(updated)
	return &k, nil
}

// CreatePublicKey inserts a validated public-key credential.
func (db *DB) CreatePublicKey(ctx context.Context, k *convoseal.PublicKey) error {
	now := db.now()
	k.DateCreated, k.DateUpdated = now, now
	_, err := db.w.ExecContext(ctx, `INSERT INTO public_keys (`+publicKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.SID, k.AccountSID, k.FriendlyName, k.PEM, k.Fingerprint, fmtTime(now), fmtTime(now))
	return err
}

// GetPublicKey returns one of an account's public keys.
func (db *DB) GetPublicKey(ctx context.Context, accountSID, sid string) (*convoseal.PublicKey, error) {
	k, err := scanPublicKey(db.r.QueryRowContext(ctx, `SELECT `+publicKeyCols+` FROM public_keys WHERE account_sid = ? AND sid = ?`, accountSID, sid))
	return k, notFound(err)
}

// ListPublicKeys returns a page of an account's public keys, newest first.
func (db *DB) ListPublicKeys(ctx context.Context, accountSID string, p Page) ([]*convoseal.PublicKey, error) {
	cond, args := p.where("")
	rows, err := db.r.QueryContext(ctx, `SELECT `+publicKeyCols+` FROM public_keys WHERE account_sid = ?`+cond+
		p.order()+` LIMIT ?`, append(append([]any{accountSID}, args...), p.Size)...)
	return collect(rows, err, scanPublicKey)
}

// UpdatePublicKeyName changes a key's friendly name.
func (db *DB) UpdatePublicKeyName(ctx context.Context, accountSID, sid, name string) (*convoseal.PublicKey, error) {
	err := db.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE public_keys SET friendly_name = ?, date_updated = ? WHERE account_sid = ? AND sid = ?`, name, fmtTime(db.now()), accountSID, sid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return convoseal.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.GetPublicKey(ctx, accountSID, sid)
}

// DeletePublicKey removes a key unless a Service still uses it (ErrConflict
// naming the Service) or a transcript not yet completed was sealed with it.
func (db *DB) DeletePublicKey(ctx context.Context, accountSID, sid string) error {
	return db.tx(ctx, func(tx *txn) error {
		// On PostgreSQL, lock the key first: a Service being saved with it, or
		// a transcript being created with it, commits before the checks below
		// (or fails its foreign key after the delete).
		if err := tx.lockRows(ctx, "FOR UPDATE", "public_keys", "account_sid = ? AND sid = ?", accountSID, sid); err != nil {
			return err
		}
		var svc string
		err := tx.QueryRowContext(ctx, `SELECT sid FROM services WHERE account_sid = ? AND encryption_credential_sid = ? ORDER BY sid LIMIT 1`, accountSID, sid).Scan(&svc)
		if err == nil {
			return fmt.Errorf("%w: Service %s uses this key as its EncryptionCredentialSid; select another key (or none) for it first", convoseal.ErrConflict, svc)
		} else if err != sql.ErrNoRows {
			return err
		}
		var tr string
		err = tx.QueryRowContext(ctx, `SELECT sid FROM transcripts WHERE account_sid = ? AND encryption_credential_sid = ? AND status IN ('queued', 'in-progress') LIMIT 1`, accountSID, sid).Scan(&tr)
		if err == nil {
			return fmt.Errorf("%w: Transcript %s is being sealed with this key; wait for it to complete", convoseal.ErrConflict, tr)
		} else if err != sql.ErrNoRows {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM public_keys WHERE account_sid = ? AND sid = ?`, accountSID, sid)
		if isForeignKeyViolation(err) {
			return fmt.Errorf("%w: a Service uses this key as its EncryptionCredentialSid; select another key (or none) for it first", convoseal.ErrConflict)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return convoseal.ErrNotFound
		}
		return nil
	})
}
