package store

import (
	"context"

	"github.com/convoseal/convoseal"
)

// SetKeepMedia switches whether a Service's audio transcripts keep their
// original recording (an operator action, not reachable through the API)
// and returns the Service.
func (db *DB) SetKeepMedia(ctx context.Context, serviceSID string, on bool) (*convoseal.Service, error) {
	return db.setServiceFlag(ctx, serviceSID, func(s *convoseal.Service) { s.KeepMedia = on })
}

// ServiceMediaSettings is what a Service says about an audio transcript's
// recordings.
type ServiceMediaSettings struct {
	// MediaRedaction: store the recording with the PII words silenced.
	MediaRedaction bool
	// KeepMedia: store the original recording too (operator-only).
	KeepMedia bool
}

// ServiceMedia reads a Service's recording settings now (the pipeline reads
// them when it processes a transcript); convoseal.ErrNotFound if there is no
// such Service.
func (db *DB) ServiceMedia(ctx context.Context, accountSID, serviceSID string) (ServiceMediaSettings, error) {
	var m ServiceMediaSettings
	err := db.r.QueryRowContext(ctx, `SELECT media_redaction, keep_media FROM services WHERE account_sid = ? AND sid = ?`,
		accountSID, serviceSID).Scan(&m.MediaRedaction, &m.KeepMedia)
	if err != nil {
		return ServiceMediaSettings{}, notFound(err)
	}
	return m, nil
}
