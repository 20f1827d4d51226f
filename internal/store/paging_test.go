package store

import (
	"slices"
	"testing"
	"time"
)

// A Before page holds the rows newer than its cursor, nearest first, with
// SIDs breaking ties of date_created as forward pages do: walking back from
// the oldest row visits every row once.
func TestPageBefore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		clock(db)
		a := newAccount(t, db)
		s := newService(t, db, a.SID, "s", "")
		for range 4 {
			newTranscript(t, db, a.SID, s.SID, nil)
		}
		same := time.Date(2025, 2, 2, 2, 2, 2, 0, time.UTC)
		saved := db.now
		db.now = func() time.Time { return same }
		for range 3 {
			newTranscript(t, db, a.SID, s.SID, nil)
		}
		db.now = saved
		all, err := db.ListTranscripts(ctx, a.SID, TranscriptFilter{}, Page{Size: 100})
		must(t, err)
		var want []string
		for _, tr := range all {
			want = append(want, tr.SID)
		}
		// Back from the oldest row, two at a time.
		last := all[len(all)-1]
		cursor := Cursor(last.DateCreated, last.SID)
		got := []string{last.SID}
		for range 10 {
			page, err := db.ListTranscripts(ctx, a.SID, TranscriptFilter{}, Page{Size: 2, Before: cursor})
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, tr := range page {
				got = append(got, tr.SID)
			}
			cursor = Cursor(page[len(page)-1].DateCreated, page[len(page)-1].SID)
		}
		slices.Reverse(got)
		if !slices.Equal(got, want) {
			t.Fatalf("walking back: %v, want %v", got, want)
		}
	})
}
