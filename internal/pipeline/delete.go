package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/store"
)

// DeleteTranscript deletes one of an account's transcripts: its rows first,
// then its objects (artifacts, a sealed source left by an earlier version,
// data-logging copies). In that order no object can outlive the deletion:
// a job still working on the transcript finds it gone when it tries to
// complete it and removes what it wrote itself (see [Pipeline.Process]).
//
// It returns convoseal.ErrNotFound if the account has no such transcript.
// Once the rows are gone the deletion has happened: a failure to remove the
// objects is logged, not returned, and [Pipeline.SweepBlobs] removes them
// later.
func DeleteTranscript(ctx context.Context, db *store.DB, blobs blob.Store, log *slog.Logger, accountSID, sid string) error {
	if err := db.DeleteTranscript(ctx, accountSID, sid); err != nil {
		return err
	}
	// The rows are gone: finish even if the client hangs up now.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := errors.Join(blobs.DeletePrefix(ctx, TranscriptPrefix(accountSID, sid)),
		blobs.DeletePrefix(ctx, DataLoggingPrefix(accountSID, sid))); err != nil {
		log.WarnContext(ctx, "deleting the objects of a deleted transcript; the blob sweep will remove them", "transcript_sid", sid, "account_sid", accountSID, "err", err)
	}
	return nil
}
