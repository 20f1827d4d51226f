package store

import (
	"context"
	"strings"
)

// maxSIDsPerQuery bounds the parameters of one ExistingTranscripts query.
const maxSIDsPerQuery = 500

// ExistingTranscripts reports which of sids are transcripts, of any account
// (for the blob sweep, which deletes the objects of transcripts that no
// longer exist).
func (db *DB) ExistingTranscripts(ctx context.Context, sids []string) (map[string]bool, error) {
	exist := make(map[string]bool, len(sids))
	for len(sids) > 0 {
		n := min(len(sids), maxSIDsPerQuery)
		args := make([]any, n)
		for i, s := range sids[:n] {
			args[i] = s
		}
		q := `SELECT sid FROM transcripts WHERE sid IN (?` + strings.Repeat(`, ?`, n-1) + `)`
		rows, err := db.r.QueryContext(ctx, q, args...)
		found, err := collect(rows, err, scanString)
		if err != nil {
			return nil, err
		}
		for _, s := range found {
			exist[s] = true
		}
		sids = sids[n:]
	}
	return exist, nil
}
