package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/pipeline"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

const (
	maxCustomerKey = 64
	maxMediaURL    = 2048 // for http(s) URLs; data: URLs are bounded by the body limit
)

// parseChannel validates the Channel parameter and returns the channel as it
// will be stored (with an inline data: URL replaced by a marker) and the
// media URL.
func parseChannel(raw string) (stored json.RawMessage, mediaURL, sourceSID string, err *convoseal.Error) {
	rest, cutURL, cut, err := splitChannel(raw)
	if err != nil {
		return nil, "", "", err
	}
	dec := json.NewDecoder(strings.NewReader(rest))
	dec.UseNumber()
	var ch map[string]any
	if dec.Decode(&ch) != nil || ch == nil || dec.More() {
		return nil, "", "", errChannelSyntax()
	}
	mp, ok := ch["media_properties"].(map[string]any)
	if !ok {
		return nil, "", "", convoseal.Invalidf("Channel.media_properties must be an object with a media_url")
	}
	if cut {
		mp["media_url"] = cutURL
	}
	mediaURL, ok = mp["media_url"].(string)
	if !ok || strings.TrimSpace(mediaURL) == "" {
		return nil, "", "", convoseal.Invalidf("Channel.media_properties.media_url is required (an https:, http: or data: URL)")
	}
	if v, present := mp["source_sid"]; present {
		if sourceSID, ok = v.(string); !ok || len(sourceSID) > 64 {
			return nil, "", "", convoseal.Invalidf("Channel.media_properties.source_sid must be a string of at most 64 characters")
		}
	}
	if p, present := ch["participants"]; present {
		if _, ok := p.([]any); !ok {
			return nil, "", "", convoseal.Invalidf("Channel.participants must be an array")
		}
	}
	scheme, _, _ := strings.Cut(mediaURL, ":")
	switch strings.ToLower(scheme) {
	case "data":
		mp["media_url"] = pipeline.SealedSourceURL
	case "http", "https":
		if len(mediaURL) > maxMediaURL {
			return nil, "", "", convoseal.Invalidf("Channel.media_properties.media_url is longer than %d characters", maxMediaURL)
		}
		mp["media_url"] = media.MaskURL(mediaURL) // the full URL is kept sealed (sealMediaURL)
	default:
		return nil, "", "", convoseal.Invalidf("Channel.media_properties.media_url must be an https:, http: or data: URL")
	}
	b, _ := json.Marshal(ch)
	if len(b) > maxChannelRest {
		return nil, "", "", channelTooLarge()
	}
	return b, mediaURL, sourceSID, nil
}

func (s *Server) createTranscript(w http.ResponseWriter, r *http.Request) {
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	serviceSID := f.sid("ServiceSid", convoseal.PrefixService)
	if f.err == nil && serviceSID == "" {
		f.fail("Missing required parameter ServiceSid")
	}
	channelRaw := f.required("Channel", MaxBodyBytes)
	customerKey := f.str("CustomerKey", maxCustomerKey)
	start := f.timestamp("MediaStartTime")
	if f.err != nil {
		writeError(w, f.err)
		return
	}
	channel, mediaURL, sourceSID, cerr := parseChannel(channelRaw)
	if cerr != nil {
		writeError(w, cerr)
		return
	}
	t := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: accountSID(r), ServiceSID: serviceSID,
		Channel: channel, MediaURL: mediaURL, SourceSID: sourceSID, CustomerKey: customerKey, MediaStartTime: start}
	ctx := r.Context()

	var src *store.SealedSource
	if len(mediaURL) >= 5 && strings.EqualFold(mediaURL[:5], "data:") { // no ToLower: a data: URL may be 16 MiB
		t.MediaURL = pipeline.SealedSourceURL // first, so that the URL (the body) can be freed while sealing
		if src, err = s.sealInlineSource(ctx, t, mediaURL); err != nil {
			s.fail(w, r, err, "")
			return
		}
	} else if err := s.sealMediaURL(t); err != nil {
		s.fail(w, r, err, "")
		return
	}
	err = s.DB.CreateTranscript(ctx, t, src, func(tx *sql.Tx) error { return s.Queue.EnqueueTx(ctx, tx, t.SID) })
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusAccepted, s.transcriptJSON(t))
}

// sealInlineSource validates an inline document and seals it with the server
// key; the store keeps the ciphertext, in the transaction that creates the
// transcript, until the pipeline has processed it. Its plaintext never
// reaches the database, the blob store or a job payload.
func (s *Server) sealInlineSource(ctx context.Context, t *convoseal.Transcript, dataURL string) (*store.SealedSource, error) {
	m, err := s.Fetcher.Fetch(ctx, dataURL)
	if err != nil {
		return nil, convoseal.Invalidf("Channel.media_properties.media_url: %s", err)
	}
	if pipeline.IsAudio(m) {
		// A recording: its header must decode (the audio is decoded and
		// recognised by the pipeline).
		if err := pipeline.ProbeAudio(m); err != nil {
			clear(m.Data)
			return nil, convoseal.Invalidf("Channel.media_properties.media_url: not audio this server can decode: %s", strings.TrimPrefix(err.Error(), "audio: "))
		}
	} else if _, err := media.Parse(m); err != nil {
		clear(m.Data)
		return nil, convoseal.Invalidf("Channel.media_properties.media_url: %s", err)
	}
	raw := pipeline.EncodeSource(m)
	clear(m.Data)
	body, env, err := s.Keys.Seal(keyring.SourceBinding(t.AccountSID, t.SID), raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	return &store.SealedSource{Body: body, Metadata: env.Metadata()}, nil
}

// sealMediaURL keeps an http(s) media URL that carries secrets (userinfo, a
// query or a fragment) sealed with the server key, bound to the transcript,
// in t.MediaURLSealed, and leaves only its masked form (media.MaskURL) in
// t.MediaURL, which is stored in plain text and echoed.
func (s *Server) sealMediaURL(t *convoseal.Transcript) error {
	masked := media.MaskURL(t.MediaURL)
	if masked == t.MediaURL {
		return nil
	}
	sealed, err := keyring.SealSecret(s.Keys.KEK(), keyring.MediaURLBinding(t.AccountSID, t.SID), t.MediaURL)
	if err != nil {
		return fmt.Errorf("sealing the media URL: %w", err)
	}
	t.MediaURL, t.MediaURLSealed = masked, sealed
	return nil
}

func (s *Server) transcriptFromPath(w http.ResponseWriter, r *http.Request, name string) *convoseal.Transcript {
	sid, perr := pathSID(r, name, convoseal.PrefixTranscript)
	if perr != nil {
		writeError(w, perr)
		return nil
	}
	t, err := s.DB.GetTranscript(r.Context(), accountSID(r), sid)
	if err != nil {
		s.fail(w, r, err, "/v2/Transcripts/"+sid)
		return nil
	}
	return t
}

func (s *Server) fetchTranscript(w http.ResponseWriter, r *http.Request) {
	if t := s.transcriptFromPath(w, r, "sid"); t != nil {
		writeJSON(w, http.StatusOK, s.transcriptJSON(t))
	}
}

var transcriptStatuses = []string{"queued", "in-progress", "completed", "failed", "new", "canceled", "error"}

func (s *Server) listTranscripts(w http.ResponseWriter, r *http.Request) {
	keysetList(s, w, r, "transcripts",
		[]string{"ServiceSid", "BeforeStartTime", "AfterStartTime", "BeforeDateCreated", "AfterDateCreated", "Status", "LanguageCode", "SourceSid"},
		func(f *form) func(context.Context, store.Page) ([]*convoseal.Transcript, error) {
			filter := storeFilter(f)
			return func(ctx context.Context, p store.Page) ([]*convoseal.Transcript, error) {
				return s.DB.ListTranscripts(ctx, accountSID(r), filter, p)
			}
		},
		func(v *convoseal.Transcript) (time.Time, string) { return v.DateCreated, v.SID }, s.transcriptJSON)
}

func (s *Server) deleteTranscript(w http.ResponseWriter, r *http.Request) {
	t := s.transcriptFromPath(w, r, "sid")
	if t == nil {
		return
	}
	if err := pipeline.DeleteTranscript(r.Context(), s.DB, s.Blobs, s.Log, t.AccountSID, t.SID); err != nil {
		s.fail(w, r, err, "/v2/Transcripts/"+t.SID)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// artifactRequest is what the endpoints serving a transcript's artifacts
// share: the caller's transcript, its parameters and the redaction variant,
// after checking that the transcript is completed and is (for /Encrypted) or
// is not (for the plain endpoints) sealed with a customer key.
type artifactRequest struct {
	t        *convoseal.Transcript
	f        *form
	redacted bool
}

// openArtifactRequest writes the error response itself and returns nil when the
// request cannot be served. params reads endpoint-specific parameters.
func (s *Server) openArtifactRequest(w http.ResponseWriter, r *http.Request, resource string, encrypted bool, params func(*form)) *artifactRequest {
	t := s.transcriptFromPath(w, r, "sid")
	if t == nil {
		return nil
	}
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return nil
	}
	a := &artifactRequest{t: t, f: f, redacted: f.boolean("Redacted", true)}
	if params != nil {
		params(f)
	}
	switch {
	case f.err != nil:
		writeError(w, f.err)
	case readyArtifacts(t) != nil:
		writeError(w, readyArtifacts(t))
	case encrypted && t.EncryptionCredentialSID == "":
		writeError(w, notCustomerEncrypted(t, resource))
	case !encrypted && t.EncryptionCredentialSID != "":
		writeError(w, encryptedError(t, resource))
	default:
		return a
	}
	return nil
}

// readyArtifacts checks the transcript can serve artifacts at all.
func readyArtifacts(t *convoseal.Transcript) *convoseal.Error {
	switch t.Status {
	case convoseal.StatusCompleted:
		return nil
	case convoseal.StatusFailed:
		return convoseal.Conflictf("Transcript %s failed (%s) and has no results", t.SID, t.FailureReason)
	default:
		return convoseal.Conflictf("Transcript %s is %s; its results are available once it is completed", t.SID, t.Status)
	}
}

// encryptedError points a client at the /Encrypted resource.
func encryptedError(t *convoseal.Transcript, resource string) *convoseal.Error {
	return &convoseal.Error{Code: convoseal.CodeEncrypted, Status: http.StatusBadRequest,
		Message: "Transcript " + t.SID + " is encrypted with your public key " + t.EncryptionCredentialSID +
			"; the server cannot read it. Fetch /v2/Transcripts/" + t.SID + "/" + resource + "/Encrypted and decrypt the location with your private key"}
}

// pickArtifact chooses the redaction variant: the redacted one when asked
// for and it exists, else the unredacted one (a transcript without redaction
// has only that).
func pickArtifact(arts []convoseal.Artifact, kind, operatorSID string, redacted bool) (convoseal.Artifact, bool) {
	var plain *convoseal.Artifact
	for i, a := range arts {
		if a.Kind != kind || a.OperatorSID != operatorSID {
			continue
		}
		if a.Redacted == redacted {
			return a, true
		}
		if !a.Redacted {
			plain = &arts[i]
		}
	}
	if plain != nil {
		return *plain, true
	}
	return convoseal.Artifact{}, false
}

// sentencesArtifact returns the sentences artifact of a completed transcript.
func (s *Server) sentencesArtifact(ctx context.Context, t *convoseal.Transcript, redacted bool) (convoseal.Artifact, error) {
	arts, err := s.DB.ListArtifacts(ctx, t.SID)
	if err != nil {
		return convoseal.Artifact{}, err
	}
	a, ok := pickArtifact(arts, convoseal.ArtifactSentences, "", redacted)
	if !ok {
		return convoseal.Artifact{}, errors.New("completed transcript has no sentences artifact")
	}
	return a, nil
}

// openArtifact reads and opens a server-sealed artifact of t; it opens only
// if it was sealed for this place (account, transcript and blob key), or is
// an unbound artifact of an earlier version.
func (s *Server) openArtifact(ctx context.Context, t *convoseal.Transcript, a convoseal.Artifact) ([]byte, error) {
	body, meta, err := s.Blobs.Get(ctx, a.BlobKey)
	if err != nil {
		return nil, err
	}
	env, err := seal.ParseMetadata(meta)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	pt, err := s.Keys.Open(keyring.ObjectBinding(t.AccountSID, t.SID, a.BlobKey), body, env)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", a.BlobKey, err)
	}
	if s.Metrics != nil && err == nil {
		s.Metrics.Opens.WithLabelValues("server").Observe(time.Since(start).Seconds())
	}
	return pt, err
}

func (s *Server) listSentences(w http.ResponseWriter, r *http.Request) {
	var (
		words  bool
		p      paging
		offset int
	)
	req := s.openArtifactRequest(w, r, "Sentences", false, func(f *form) {
		words = f.boolean("WordTimestamps", false)
		p, offset = f.offsetPaging()
	})
	if req == nil {
		return
	}
	t, f, redacted := req.t, req.f, req.redacted
	a, err := s.sentencesArtifact(r.Context(), t, redacted)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	plain, err := s.openArtifact(r.Context(), t, a)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	var doc convoseal.SentencesDocument
	err = json.Unmarshal(plain, &doc)
	clear(plain)
	if err == nil && doc.TranscriptSID != t.SID {
		err = fmt.Errorf("%s holds the sentences of another transcript", a.BlobKey)
	}
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	end := min(offset+p.size, len(doc.Sentences))
	page := []convoseal.Sentence{}
	if offset < len(doc.Sentences) {
		page = doc.Sentences[offset:end]
	}
	if !words {
		for i := range page {
			page[i].Words = nil
		}
	}
	next := ""
	if end < len(doc.Sentences) {
		next = strconv.Itoa(end)
	}
	filters := pick(f, "Redacted", "WordTimestamps")
	writeJSON(w, http.StatusOK, map[string]any{"sentences": page, "meta": s.meta(r, "sentences", p, next, filters)})
}

func (s *Server) encryptedSentences(w http.ResponseWriter, r *http.Request) {
	req := s.openArtifactRequest(w, r, "Sentences", true, nil)
	if req == nil {
		return
	}
	t, redacted := req.t, req.redacted
	a, err := s.sentencesArtifact(r.Context(), t, redacted)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	loc, err := s.Blobs.Location(r.Context(), a.BlobKey, s.URLExpiry)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"location": loc, "transcript_sid": t.SID,
		"url": s.PublicURL + "/v2/Transcripts/" + t.SID + "/Sentences/Encrypted"})
}

func notCustomerEncrypted(t *convoseal.Transcript, resource string) *convoseal.Error {
	return &convoseal.Error{Code: convoseal.CodeInvalidParameter, Status: http.StatusBadRequest,
		Message: "Transcript " + t.SID + " is not encrypted with a customer public key (its Service had no EncryptionCredentialSid when it was created); read /v2/Transcripts/" + t.SID + "/" + resource + " instead"}
}

func (s *Server) listOperatorResults(w http.ResponseWriter, r *http.Request) {
	var (
		p      paging
		offset int
	)
	req := s.openArtifactRequest(w, r, "OperatorResults", false, func(f *form) { p, offset = f.offsetPaging() })
	if req == nil {
		return
	}
	t, f, redacted := req.t, req.f, req.redacted
	arts, err := s.operatorArtifacts(r.Context(), t, redacted)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	end := min(offset+p.size, len(arts))
	results := []json.RawMessage{}
	for i := offset; i < end; i++ {
		res, err := s.operatorResultJSON(r.Context(), t, arts[i])
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		results = append(results, res)
	}
	next := ""
	if end < len(arts) {
		next = strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, map[string]any{"operator_results": results, "meta": s.meta(r, "operator_results", p, next, pick(f, "Redacted"))})
}

// operatorArtifacts returns one artifact per operator, in the chosen variant.
func (s *Server) operatorArtifacts(ctx context.Context, t *convoseal.Transcript, redacted bool) ([]convoseal.Artifact, error) {
	all, err := s.DB.ListArtifacts(ctx, t.SID)
	if err != nil {
		return nil, err
	}
	var out []convoseal.Artifact
	seen := map[string]bool{}
	for _, a := range all {
		if a.Kind != convoseal.ArtifactOperatorResult || seen[a.OperatorSID] {
			continue
		}
		seen[a.OperatorSID] = true
		if chosen, ok := pickArtifact(all, convoseal.ArtifactOperatorResult, a.OperatorSID, redacted); ok {
			out = append(out, chosen)
		}
	}
	return out, nil
}

// operatorResultJSON opens a server-sealed operator result and adds its URL.
func (s *Server) operatorResultJSON(ctx context.Context, t *convoseal.Transcript, a convoseal.Artifact) (json.RawMessage, error) {
	plain, err := s.openArtifact(ctx, t, a)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, err
	}
	if err := checkResultPlace(m, t.SID, a.OperatorSID); err != nil {
		return nil, fmt.Errorf("%s: %w", a.BlobKey, err)
	}
	u, _ := json.Marshal(s.PublicURL + "/v2/Transcripts/" + t.SID + "/OperatorResults/" + a.OperatorSID)
	m["url"] = u
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// checkResultPlace checks that an opened operator result is the one of
// transcriptSID and operatorSID (an unbound artifact of an earlier version
// could have been copied from elsewhere).
func checkResultPlace(m map[string]json.RawMessage, transcriptSID, operatorSID string) error {
	var tr, op string
	if json.Unmarshal(m["transcript_sid"], &tr) != nil || tr != transcriptSID ||
		json.Unmarshal(m["operator_sid"], &op) != nil || op != operatorSID {
		return errors.New("the stored result belongs to another transcript or operator")
	}
	return nil
}

func (s *Server) fetchOperatorResult(w http.ResponseWriter, r *http.Request) {
	opSID, perr := pathSID(r, "operator", convoseal.PrefixOperator)
	if perr != nil {
		writeError(w, perr)
		return
	}
	req := s.openArtifactRequest(w, r, "OperatorResults", false, nil)
	if req == nil {
		return
	}
	t, redacted := req.t, req.redacted
	all, err := s.DB.ListArtifacts(r.Context(), t.SID)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	a, ok := pickArtifact(all, convoseal.ArtifactOperatorResult, opSID, redacted)
	if !ok {
		writeError(w, convoseal.NotFoundf("Transcript %s has no result for operator %s", t.SID, opSID))
		return
	}
	res, err := s.operatorResultJSON(r.Context(), t, a)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(res, '\n'))
}

func (s *Server) encryptedOperatorResults(w http.ResponseWriter, r *http.Request) {
	req := s.openArtifactRequest(w, r, "OperatorResults", true, nil)
	if req == nil {
		return
	}
	t, redacted := req.t, req.redacted
	arts, err := s.operatorArtifacts(r.Context(), t, redacted)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	locs := []string{}
	for _, a := range arts {
		loc, err := s.Blobs.Location(r.Context(), a.BlobKey, s.URLExpiry)
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		locs = append(locs, loc)
	}
	writeJSON(w, http.StatusOK, map[string]any{"locations": locs, "transcript_sid": t.SID,
		"url": s.PublicURL + "/v2/Transcripts/" + t.SID + "/OperatorResults/Encrypted"})
}
