package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/convoseal/convoseal"
)

// The Media resource of a transcript: where to download the recording that
// convoseal stored for an audio transcript, never the customer's own media
// URL. Redacted (default: whether the transcript was made with redaction)
// picks the redacted recording (MediaRedaction) or the original (kept only
// when the operator enables it); media_url is null when that recording is
// not stored, and no other variant is served in its place.
//
// A recording sealed with the customer's key is served like
// Sentences/Encrypted: media_url is the blob store's signed location, whose
// download carries the envelope headers, for the private key to open. One
// sealed with the server key is opened by the API: media_url is
// /v2/Transcripts/{sid}/Media/Content, authenticated like every other
// request, which answers the WAV.

// mediaRequest reads the transcript of a media resource's path and its
// Redacted parameter (default: whether the transcript was made with
// redaction); when it returns nil it has answered the request.
func (s *Server) mediaRequest(w http.ResponseWriter, r *http.Request) (t *convoseal.Transcript, redacted bool) {
	t = s.transcriptFromPath(w, r, "sid")
	if t == nil {
		return nil, false
	}
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return nil, false
	}
	redacted = f.boolean("Redacted", t.Redaction)
	if f.err != nil {
		writeError(w, f.err)
		return nil, false
	}
	return t, redacted
}

// recording returns the stored recording of one variant, if any.
func (s *Server) recording(ctx context.Context, t *convoseal.Transcript, redacted bool) (convoseal.Artifact, bool, error) {
	arts, err := s.DB.ListArtifacts(ctx, t.SID)
	if err != nil {
		return convoseal.Artifact{}, false, err
	}
	for _, a := range arts {
		if a.Kind == convoseal.ArtifactMedia && a.Redacted == redacted {
			return a, true, nil
		}
	}
	return convoseal.Artifact{}, false, nil
}

func (s *Server) transcriptMedia(w http.ResponseWriter, r *http.Request) {
	t, redacted := s.mediaRequest(w, r)
	if t == nil {
		return
	}
	a, ok, err := s.recording(r.Context(), t, redacted)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	var mediaURL *string
	switch {
	case !ok:
	case t.EncryptionCredentialSID != "":
		loc, err := s.Blobs.Location(r.Context(), a.BlobKey, s.URLExpiry)
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		mediaURL = &loc
	default:
		u := s.PublicURL + "/v2/Transcripts/" + t.SID + "/Media/Content?Redacted=" + strconv.FormatBool(redacted)
		mediaURL = &u
	}
	writeJSON(w, http.StatusOK, map[string]any{"account_sid": t.AccountSID, "media_url": mediaURL, "service_sid": t.ServiceSID,
		"sid": t.SID, "url": s.PublicURL + "/v2/Transcripts/" + t.SID + "/Media"})
}

// transcriptMediaContent answers a recording sealed with the server key as
// audio/wav (a convoseal extra, the media_url of such recordings).
func (s *Server) transcriptMediaContent(w http.ResponseWriter, r *http.Request) {
	t, redacted := s.mediaRequest(w, r)
	if t == nil {
		return
	}
	if t.EncryptionCredentialSID != "" {
		writeError(w, &convoseal.Error{Code: convoseal.CodeEncrypted, Status: http.StatusBadRequest,
			Message: "Transcript " + t.SID + " is encrypted with your public key " + t.EncryptionCredentialSID +
				"; the server cannot read it. Download the media_url of /v2/Transcripts/" + t.SID + "/Media and decrypt it with your private key"})
		return
	}
	a, ok, err := s.recording(r.Context(), t, redacted)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	if !ok {
		what := "original"
		if redacted {
			what = "redacted"
		}
		writeError(w, convoseal.NotFoundf("Transcript %s has no stored %s recording", t.SID, what))
		return
	}
	wav, err := s.openArtifact(r.Context(), t, a)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	defer clear(wav)
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.Itoa(len(wav)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(wav)
}
