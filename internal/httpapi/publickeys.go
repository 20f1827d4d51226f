package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

const maxFriendlyName = 64

func (s *Server) createPublicKey(w http.ResponseWriter, r *http.Request) {
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	pemText := f.required("PublicKey", seal.MaxKeyFileSize)
	name := f.str("FriendlyName", maxFriendlyName)
	if owner := f.sid("AccountSid", convoseal.PrefixAccount); owner != "" && owner != accountSID(r) {
		f.fail("AccountSid %s is not the authenticated account; subaccounts are not supported", owner)
	}
	if f.err != nil {
		writeError(w, f.err)
		return
	}
	pub, err := seal.ParsePublicKey([]byte(pemText))
	if err != nil {
		// seal's errors never contain key material.
		writeError(w, convoseal.Invalidf("PublicKey is not acceptable: %s", err))
		return
	}
	k := &convoseal.PublicKey{SID: convoseal.NewSID(convoseal.PrefixPublicKey), AccountSID: accountSID(r), FriendlyName: name,
		PEM: normalizedPEM(pemText), Fingerprint: seal.Fingerprint(pub)}
	if err := s.DB.CreatePublicKey(r.Context(), k); err != nil {
		s.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusCreated, s.publicKeyJSON(k))
}

// normalizedPEM stores the key as given, trimmed; seal.ParsePublicKey has
// accepted it.
func normalizedPEM(p string) string { return strings.TrimSpace(p) + "\n" }

func (s *Server) fetchPublicKey(w http.ResponseWriter, r *http.Request) {
	fetchOne(s, w, r, convoseal.PrefixPublicKey, "/v1/Credentials/PublicKeys/", s.DB.GetPublicKey, s.publicKeyJSON)
}

func (s *Server) listPublicKeys(w http.ResponseWriter, r *http.Request) {
	keysetList(s, w, r, "credentials", nil,
		func(*form) func(context.Context, store.Page) ([]*convoseal.PublicKey, error) {
			return func(ctx context.Context, p store.Page) ([]*convoseal.PublicKey, error) {
				return s.DB.ListPublicKeys(ctx, accountSID(r), p)
			}
		},
		func(v *convoseal.PublicKey) (time.Time, string) { return v.DateCreated, v.SID }, s.publicKeyJSON)
}

func (s *Server) updatePublicKey(w http.ResponseWriter, r *http.Request) {
	sid, perr := pathSID(r, "sid", convoseal.PrefixPublicKey)
	if perr != nil {
		writeError(w, perr)
		return
	}
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	name := f.str("FriendlyName", maxFriendlyName)
	if f.err != nil {
		writeError(w, f.err)
		return
	}
	if !f.has("FriendlyName") {
		k, err := s.DB.GetPublicKey(r.Context(), accountSID(r), sid)
		if err != nil {
			s.fail(w, r, err, "/v1/Credentials/PublicKeys/"+sid)
			return
		}
		writeJSON(w, http.StatusOK, s.publicKeyJSON(k))
		return
	}
	k, err := s.DB.UpdatePublicKeyName(r.Context(), accountSID(r), sid, name)
	if err != nil {
		s.fail(w, r, err, "/v1/Credentials/PublicKeys/"+sid)
		return
	}
	writeJSON(w, http.StatusOK, s.publicKeyJSON(k))
}

func (s *Server) deletePublicKey(w http.ResponseWriter, r *http.Request) {
	sid, perr := pathSID(r, "sid", convoseal.PrefixPublicKey)
	if perr != nil {
		writeError(w, perr)
		return
	}
	err := s.DB.DeletePublicKey(r.Context(), accountSID(r), sid)
	if errors.Is(err, convoseal.ErrConflict) {
		writeError(w, convoseal.Conflictf("Cannot delete public key %s: %s", sid, strings.TrimPrefix(err.Error(), convoseal.ErrConflict.Error()+": ")))
		return
	}
	if err != nil {
		s.fail(w, r, err, "/v1/Credentials/PublicKeys/"+sid)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
