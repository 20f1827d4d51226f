package store

import (
	"testing"

	"github.com/convoseal/convoseal"
)

// TestKeepMedia: keep_media is off for a new Service, only SetKeepMedia
// switches it (API updates keep it), GetService and ServiceMedia read it,
// and ServiceMedia gives the Service's MediaRedaction with it.
func TestKeepMedia(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		a := newAccount(t, db)
		svc := newService(t, db, a.SID, "media", "")
		check := func(wantKeep, wantRedact bool) {
			t.Helper()
			stored, err := db.GetService(ctx, a.SID, svc.SID)
			must(t, err)
			m, err := db.ServiceMedia(ctx, a.SID, svc.SID)
			must(t, err)
			if stored.KeepMedia != wantKeep || m.KeepMedia != wantKeep || m.MediaRedaction != wantRedact {
				t.Fatalf("GetService keep_media %v, ServiceMedia %+v; want keep %v, media redaction %v", stored.KeepMedia, m, wantKeep, wantRedact)
			}
		}
		check(false, false)
		s, err := db.SetKeepMedia(ctx, svc.SID, true)
		must(t, err)
		if !s.KeepMedia || s.Version != 2 {
			t.Fatalf("SetKeepMedia = %+v", s)
		}
		check(true, false)
		_, err = db.UpdateService(ctx, a.SID, svc.SID, 0, func(s *convoseal.Service) error {
			s.AutoRedaction, s.MediaRedaction = true, true
			return nil
		})
		must(t, err)
		check(true, true)
		l, err := db.ListServices(ctx, a.SID, Page{Size: 10})
		must(t, err)
		if len(l) != 1 || !l[0].KeepMedia {
			t.Fatalf("ListServices = %+v", l)
		}
		_, err = db.SetKeepMedia(ctx, svc.SID, false)
		must(t, err)
		check(false, true)
		_, err = db.SetKeepMedia(ctx, convoseal.NewSID(convoseal.PrefixService), true)
		wantStatus(t, "unknown Service", err, 404)
		_, err = db.ServiceMedia(ctx, convoseal.NewSID(convoseal.PrefixAccount), svc.SID)
		wantStatus(t, "another account's Service", err, 404)
	})
}
