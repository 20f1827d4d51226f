package store

import (
	"context"

	"github.com/convoseal/convoseal"
)

// SetLanguageModel switches whether a Service's transcripts may go to the
// language model (an operator action, not reachable through the API) and
// returns the Service.
func (db *DB) SetLanguageModel(ctx context.Context, serviceSID string, on bool) (*convoseal.Service, error) {
	return db.setServiceFlag(ctx, serviceSID, func(s *convoseal.Service) { s.LanguageModel = on })
}

// setServiceFlag applies set to a Service found by SID alone (operator
// switches work across accounts) and returns the updated Service.
func (db *DB) setServiceFlag(ctx context.Context, serviceSID string, set func(*convoseal.Service)) (*convoseal.Service, error) {
	var account string
	if err := db.r.QueryRowContext(ctx, `SELECT account_sid FROM services WHERE sid = ?`, serviceSID).Scan(&account); err != nil {
		return nil, notFound(err)
	}
	return db.UpdateService(ctx, account, serviceSID, 0, func(s *convoseal.Service) error {
		set(s)
		return nil
	})
}

// ServiceLanguageModel reports whether a Service's transcripts may go to the
// language model now; convoseal.ErrNotFound if there is no such Service.
func (db *DB) ServiceLanguageModel(ctx context.Context, accountSID, serviceSID string) (bool, error) {
	var on bool
	err := db.r.QueryRowContext(ctx, `SELECT language_model FROM services WHERE account_sid = ? AND sid = ?`, accountSID, serviceSID).Scan(&on)
	if err != nil {
		return false, notFound(err)
	}
	return on, nil
}

// LanguageModelServices lists every Service sealed with a customer key whose
// transcripts may go to the language model, for the start-up warning.
func (db *DB) LanguageModelServices(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT sid FROM services WHERE language_model AND encryption_credential_sid IS NOT NULL ORDER BY sid`)
	return collect(rows, err, scanString)
}
