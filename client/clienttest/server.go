// Package clienttest is a stand-in for a convoseal installation, for testing
// programs built on package client without a real server: it serves the
// Transcripts list and resource, Sentences/Encrypted and
// OperatorResults/Encrypted, and the locations they point at, with artifacts
// sealed by package seal exactly as convoseal seals them. Failures (429, 5xx,
// expired locations) can be injected.
package clienttest

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convoseal/convoseal/seal"
)

// Credentials the server accepts.
const (
	AccountSID = "AC00000000000000000000000000000001"
	AuthToken  = "clienttest-auth-token-0123456789ab"
)

// Transcript is one transcript the server holds.
type Transcript struct {
	SID          string // GT…
	ServiceSID   string // GA…
	Status       string // "" means completed
	LanguageCode string // "" means en-US
	CustomerKey  string
	SourceSID    string
	DateCreated  time.Time
	Duration     int
	Redaction    bool
	// Channel is served as the transcript's channel (participants).
	Channel json.RawMessage
	// Key seals the artifacts; nil makes a transcript without a customer
	// key (its /Encrypted resources answer 400).
	Key           *rsa.PublicKey
	CredentialSID string // CR…, carried in x-amz-matdesc with the fingerprint
	// NoMatDesc leaves out x-amz-matdesc, as a minimal S3 client would.
	NoMatDesc bool
	// Sentences is the plaintext sentences document; OperatorResults the
	// plaintext of each operator result (with operator_sid set). The same
	// plaintext serves both redaction variants.
	Sentences       []byte
	OperatorResults [][]byte
}

type object struct {
	body []byte
	env  seal.Envelope
}

type fault struct {
	status     int
	retryAfter string
}

// Server is a fake convoseal API on a loopback httptest server.
type Server struct {
	URL string
	// PageSize is the default and largest page of the list (default 50).
	PageSize int

	srv         *httptest.Server
	mu          sync.Mutex
	transcripts []Transcript
	objects     map[string]object
	faults      map[string][]fault
	generation  int // signatures of earlier generations have expired
	hits        map[string]int
}

// NewServer starts a server; Close it when done.
func NewServer() *Server {
	s := &Server{PageSize: 50, objects: map[string]object{}, faults: map[string][]fault{}, hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Add seals t's artifacts and adds it. Transcripts are listed newest
// (DateCreated) first.
func (s *Server) Add(t Transcript) error {
	if t.Status == "" {
		t.Status = "completed"
	}
	if t.LanguageCode == "" {
		t.LanguageCode = "en-US"
	}
	if t.DateCreated.IsZero() {
		t.DateCreated = time.Now().UTC().Truncate(time.Second)
	}
	if t.Key != nil {
		r, err := seal.NewRSARecipient(t.Key)
		if err != nil {
			return err
		}
		put := func(key string, plain []byte) error {
			body, env, err := seal.Seal(r, plain)
			if err != nil {
				return err
			}
			env.CredentialSID = t.CredentialSID
			if t.NoMatDesc {
				env.Fingerprint, env.CredentialSID = "", ""
			}
			s.mu.Lock()
			s.objects[key] = object{body, env}
			s.mu.Unlock()
			return nil
		}
		for _, v := range []string{"redacted", "unredacted"} {
			if err := put(t.SID+"/sentences/"+v, t.Sentences); err != nil {
				return err
			}
			for _, res := range t.OperatorResults {
				var head struct {
					OperatorSID string `json:"operator_sid"`
				}
				if err := json.Unmarshal(res, &head); err != nil || head.OperatorSID == "" {
					return fmt.Errorf("operator result without operator_sid")
				}
				if err := put(t.SID+"/operator-results/"+head.OperatorSID+"/"+v, res); err != nil {
					return err
				}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transcripts = append(s.transcripts, t)
	slices.SortStableFunc(s.transcripts, func(a, b Transcript) int { return b.DateCreated.Compare(a.DateCreated) })
	return nil
}

// Fail makes the next n requests whose path starts with prefix answer status
// (with a Retry-After header when retryAfter is not empty).
func (s *Server) Fail(prefix string, status int, retryAfter string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[prefix] = append(s.faults[prefix], fault{status, retryAfter})
	}
}

// ExpireLocations makes every location handed out so far answer 403, as an
// S3 presigned URL past its expiry does.
func (s *Server) ExpireLocations() {
	s.mu.Lock()
	s.generation++
	s.mu.Unlock()
}

// Hits returns how many requests reached paths starting with prefix.
func (s *Server) Hits(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.hits {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	var f *fault
	for prefix, q := range s.faults {
		if strings.HasPrefix(r.URL.Path, prefix) && len(q) > 0 {
			f = &q[0]
			s.faults[prefix] = q[1:]
			break
		}
	}
	s.mu.Unlock()
	if f != nil {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		twilioError(w, f.status, 20000+f.status, "injected failure")
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/blob/"); ok {
		s.serveObject(w, r, rest)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != AccountSID || p != AuthToken {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/Transcripts"), "/")
	switch {
	case r.URL.Path == "/v2/Transcripts":
		s.list(w, r)
	case len(parts) == 2 && parts[0] == "":
		t, ok := s.find(w, parts[1])
		if ok {
			writeJSON(w, http.StatusOK, s.transcriptJSON(t))
		}
	case len(parts) == 4 && parts[0] == "" && parts[3] == "Encrypted" && (parts[2] == "Sentences" || parts[2] == "OperatorResults"):
		s.encrypted(w, r, parts[1], parts[2])
	default:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	}
}

func (s *Server) find(w http.ResponseWriter, sid string) (Transcript, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.transcripts {
		if t.SID == sid {
			return t, true
		}
	}
	twilioError(w, http.StatusNotFound, 20404, "The requested resource /v2/Transcripts/"+sid+" was not found")
	return Transcript{}, false
}

func (s *Server) transcriptJSON(t Transcript) map[string]any {
	opt := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	ch := t.Channel
	if ch == nil {
		ch = json.RawMessage(`{"media_properties":{"media_url":""}}`)
	}
	return map[string]any{"sid": t.SID, "account_sid": AccountSID, "service_sid": t.ServiceSID, "status": t.Status,
		"language_code": t.LanguageCode, "customer_key": opt(t.CustomerKey), "date_created": t.DateCreated.UTC().Format(time.RFC3339),
		"date_updated": t.DateCreated.UTC().Format(time.RFC3339), "redaction": t.Redaction, "duration": t.Duration,
		"data_logging": false, "channel": ch, "encryption_credential_sid": opt(t.CredentialSID), "media_start_time": nil,
		"url": s.URL + "/v2/Transcripts/" + t.SID}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := s.PageSize
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			twilioError(w, http.StatusBadRequest, 20001, "PageSize must be a positive number")
			return
		}
		size = min(n, s.PageSize)
	}
	offset, _ := strconv.Atoi(q.Get("PageToken"))
	after, err1 := stamp(q.Get("AfterDateCreated"))
	before, err2 := stamp(q.Get("BeforeDateCreated"))
	if err1 != nil || err2 != nil {
		twilioError(w, http.StatusBadRequest, 20001, "dates must be ISO 8601")
		return
	}
	s.mu.Lock()
	var match []Transcript
	for _, t := range s.transcripts {
		if v := q.Get("ServiceSid"); v != "" && t.ServiceSID != v ||
			q.Get("Status") != "" && t.Status != q.Get("Status") ||
			q.Get("LanguageCode") != "" && t.LanguageCode != q.Get("LanguageCode") ||
			q.Get("SourceSid") != "" && t.SourceSID != q.Get("SourceSid") ||
			!after.IsZero() && t.DateCreated.Before(after) ||
			!before.IsZero() && t.DateCreated.After(before) {
			continue
		}
		match = append(match, t)
	}
	s.mu.Unlock()
	page := []map[string]any{}
	end := min(offset+size, len(match))
	for _, t := range match[min(offset, end):end] {
		page = append(page, s.transcriptJSON(t))
	}
	var next any
	if end < len(match) {
		nq := q
		nq.Set("PageSize", strconv.Itoa(size))
		nq.Set("PageToken", strconv.Itoa(end))
		next = s.URL + "/v2/Transcripts?" + nq.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"transcripts": page, "meta": map[string]any{
		"key": "transcripts", "page_size": size, "next_page_url": next, "url": s.URL + r.URL.RequestURI()}})
}

func stamp(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, v)
}

func (s *Server) encrypted(w http.ResponseWriter, r *http.Request, sid, resource string) {
	t, ok := s.find(w, sid)
	if !ok {
		return
	}
	if t.Status != "completed" {
		twilioError(w, http.StatusConflict, 20409, "Transcript "+sid+" is "+t.Status+"; its results are available once it is completed")
		return
	}
	if t.Key == nil {
		twilioError(w, http.StatusBadRequest, 20001, "Transcript "+sid+" is not encrypted with a customer public key (its Service had no EncryptionCredentialSid when it was created); read /v2/Transcripts/"+sid+"/"+resource+" instead")
		return
	}
	variant := "redacted"
	if v := r.URL.Query().Get("Redacted"); v == "false" || !t.Redaction {
		variant = "unredacted"
	}
	s.mu.Lock()
	gen := s.generation
	s.mu.Unlock()
	loc := func(key string) string {
		return s.URL + "/blob/" + AccountSID + "/" + key + "?Expires=" + strconv.Itoa(gen) + "&Signature=sig" + strconv.Itoa(gen)
	}
	self := s.URL + "/v2/Transcripts/" + sid + "/" + resource + "/Encrypted"
	if resource == "Sentences" {
		writeJSON(w, http.StatusOK, map[string]any{"location": loc(sid + "/sentences/" + variant), "transcript_sid": sid, "url": self})
		return
	}
	locs := []string{}
	for _, res := range t.OperatorResults {
		var head struct {
			OperatorSID string `json:"operator_sid"`
		}
		json.Unmarshal(res, &head)
		locs = append(locs, loc(sid+"/operator-results/"+head.OperatorSID+"/"+variant))
	}
	writeJSON(w, http.StatusOK, map[string]any{"locations": locs, "transcript_sid": sid, "url": self})
}

func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, rest string) {
	key := strings.TrimPrefix(rest, AccountSID+"/")
	s.mu.Lock()
	o, ok := s.objects[key]
	current := r.URL.Query().Get("Signature") == "sig"+strconv.Itoa(s.generation)
	s.mu.Unlock()
	switch {
	case !current:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
	case !ok:
		http.Error(w, "no such object", http.StatusNotFound)
	default:
		o.env.SetHeaders(w.Header())
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(o.body)))
		w.Write(o.body)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func twilioError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status})
}
