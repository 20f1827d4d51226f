package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
)

func itoa(n int) string { return strconv.Itoa(n) }

// form holds a request's parameters (query and, for POST, the urlencoded body)
// and collects the first validation error.
type form struct {
	v   url.Values
	err *convoseal.Error
}

// parseForm reads parameters. Bodies other than urlencoded forms are refused.
func parseForm(r *http.Request) (*form, error) {
	if r.Method == http.MethodPost {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
			return nil, &convoseal.Error{Code: convoseal.CodeInvalidParameter, Status: http.StatusUnsupportedMediaType,
				Message: "request body must be application/x-www-form-urlencoded"}
		}
	}
	v, err := readForm(r)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, &convoseal.Error{Code: convoseal.CodeTooLarge, Status: http.StatusRequestEntityTooLarge, Message: "request body is larger than " + itoa(MaxBodyBytes) + " bytes"}
		case errors.Is(err, errBodyBudget):
			return nil, errBodyBudget
		}
		return nil, convoseal.Invalidf("the request parameters cannot be parsed as a form")
	}
	return &form{v: v}, nil
}

func (f *form) fail(format string, args ...any) {
	if f.err == nil {
		f.err = convoseal.Invalidf(format, args...)
	}
}

func (f *form) has(name string) bool { _, ok := f.v[name]; return ok }

// str returns a string parameter of at most max bytes of valid UTF-8.
func (f *form) str(name string, max int) string {
	v := f.v.Get(name)
	if len(v) > max {
		f.fail("%s is too long (%d bytes; at most %d)", name, len(v), max)
		return ""
	}
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		f.fail("%s is not valid UTF-8 text", name)
		return ""
	}
	return v
}

// required is str that must be present and non-blank.
func (f *form) required(name string, max int) string {
	v := f.str(name, max)
	if f.err == nil && strings.TrimSpace(v) == "" {
		f.fail("Missing required parameter %s", name)
	}
	return v
}

// boolean parses true/false (any case); def when absent.
func (f *form) boolean(name string, def bool) bool {
	if !f.has(name) {
		return def
	}
	switch strings.ToLower(strings.TrimSpace(f.v.Get(name))) {
	case "true":
		return true
	case "false":
		return false
	}
	f.fail("%s must be true or false", name)
	return def
}

// sid parses a SID with the given prefix; empty when absent.
func (f *form) sid(name, prefix string) string {
	v := f.v.Get(name)
	if v == "" {
		return ""
	}
	if !convoseal.ValidSID(prefix, v) {
		f.fail("%s must be a %s SID (%s followed by 32 hexadecimal digits)", name, prefix, prefix)
		return ""
	}
	return convoseal.NormalizeSID(v)
}

// timestamp parses an ISO 8601 / RFC 3339 date-time; nil when absent.
func (f *form) timestamp(name string) *time.Time {
	v := f.v.Get(name)
	if v == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t
		}
	}
	f.fail("%s must be an ISO 8601 date-time such as 2024-01-31T12:00:00Z", name)
	return nil
}

// oneOf returns the parameter if it is one of allowed (case-sensitive), def when absent.
func (f *form) oneOf(name, def string, allowed ...string) string {
	v := f.v.Get(name)
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	f.fail("%s must be one of %s", name, strings.Join(allowed, ", "))
	return def
}

// pathSID validates a SID taken from the URL path. A malformed SID is a 404
// like an unknown one: the client named no resource that can exist.
func pathSID(r *http.Request, name, prefix string) (string, *convoseal.Error) {
	v := r.PathValue(name)
	if !convoseal.ValidSID(prefix, v) {
		if len(v) > 64 {
			v = v[:64] + "…"
		}
		return "", convoseal.NotFoundf("The requested resource was not found: %q is not a %s SID (%s followed by 32 hexadecimal digits)", v, prefix, prefix)
	}
	return convoseal.NormalizeSID(v), nil
}

// paging is a list request's PageSize, Page and PageToken.
type paging struct {
	size   int
	number int
	token  string // cursor (decoded)
	back   bool   // token is a "PB" token: the page before the cursor
	// prev is the decoded token of the previous page, and hasPrev whether
	// there is one (page 0's token is "").
	prev     string
	prevBack bool
	hasPrev  bool
}

// Keyset page tokens carry their direction as Twilio's do: "PA" (the page
// after a row) or "PB" (the page before a row), then the base64 cursor. A
// bare base64 token (as issued before) continues after its row.
const (
	tokenAfter  = "PA"
	tokenBefore = "PB"
)

func encodeToken(token string, back bool) string {
	enc := base64.RawURLEncoding.EncodeToString([]byte(token))
	if !store.ValidCursor(token) {
		return enc // an offset
	}
	if back {
		return tokenBefore + enc
	}
	return tokenAfter + enc
}

const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

func (f *form) paging() paging {
	p := paging{size: defaultPageSize}
	if v := f.v.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			f.fail("PageSize must be a whole number from 1 to %d", maxPageSize)
		} else {
			p.size = n
		}
	}
	if v := f.v.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			f.fail("Page must be a whole number from 0")
		} else {
			p.number = n
		}
	}
	if v := f.v.Get("PageToken"); v != "" {
		if rest, ok := strings.CutPrefix(v, tokenBefore); ok {
			v, p.back = rest, true
		} else {
			v = strings.TrimPrefix(v, tokenAfter)
		}
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) > 256 || !utf8.Valid(b) {
			f.fail("PageToken is not a token this server issued")
		} else {
			p.token = string(b)
		}
	}
	return p
}

// keysetPaging is paging for lists ordered by (date_created, sid): the token
// must be a cursor the store made.
func (f *form) keysetPaging() paging {
	p := f.paging()
	switch {
	case p.token != "" && !store.ValidCursor(p.token):
		f.fail("PageToken is not a token this server issued")
	case p.token == "" && p.number > 0:
		f.fail("Page %d needs the PageToken of that page's URL (next_page_url or previous_page_url); without one, ask for Page 0", p.number)
	}
	return p
}

// offsetPaging is paging for lists served from one document, where the token
// is an offset.
func (f *form) offsetPaging() (paging, int) {
	p := f.paging()
	n := p.number * p.size // a bare Page=N is the Nth page
	if p.token != "" {
		var err error
		n, err = strconv.Atoi(p.token)
		if p.back || err != nil || n < 0 || strconv.Itoa(n) != p.token {
			f.fail("PageToken is not a token this server issued")
			return p, 0
		}
	}
	if n > 0 {
		p.hasPrev = true
		if prev := n - p.size; prev > 0 {
			p.prev = strconv.Itoa(prev)
		}
	}
	return p, n
}

// storePage asks the store for one row more than a page, to learn whether a
// next page exists.
func (p paging) storePage() store.Page {
	if p.back {
		return store.Page{Size: p.size + 1, Before: p.token}
	}
	return store.Page{Size: p.size + 1, After: p.token}
}

// listMeta is Twilio's list envelope "meta".
type listMeta struct {
	FirstPageURL    string  `json:"first_page_url"`
	Key             string  `json:"key"`
	NextPageURL     *string `json:"next_page_url"`
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
}

// meta builds the envelope for a page. next is the cursor of the next page,
// or "" at the end; p says whether there is a previous page; filters are the list's own query parameters, carried into
// the page URLs.
func (s *Server) meta(r *http.Request, key string, p paging, next string, filters url.Values) listMeta {
	base := s.PublicURL + r.URL.Path
	pageURL := func(number int, token string, back bool) string {
		q := url.Values{}
		for k, vs := range filters {
			for _, v := range vs {
				if v != "" {
					q.Add(k, v)
				}
			}
		}
		q.Set("PageSize", itoa(p.size))
		q.Set("Page", itoa(number))
		if token != "" {
			q.Set("PageToken", encodeToken(token, back))
		}
		return base + "?" + q.Encode()
	}
	m := listMeta{
		FirstPageURL: pageURL(0, "", false),
		Key:          key,
		Page:         p.number,
		PageSize:     p.size,
		URL:          pageURL(p.number, p.token, p.back),
	}
	if next != "" {
		u := pageURL(p.number+1, next, false)
		m.NextPageURL = &u
	}
	if p.hasPrev {
		u := pageURL(max(p.number-1, 0), p.prev, p.prevBack)
		m.PreviousPageURL = &u
	}
	return m
}

// pick returns named parameters of the request, for carrying filters into page URLs.
func pick(f *form, names ...string) url.Values {
	out := url.Values{}
	for _, n := range names {
		if v := f.v.Get(n); v != "" {
			out.Set(n, v)
		}
	}
	return out
}

// keysetPage trims a store result (one row more than the page) to the page,
// newest first, and returns the cursor of the next page, or "" at the end. It
// sets p's previous page: before the page's first row, if the request had a
// token (a forward page) or the store found a row more (a backward page).
func keysetPage[T any](rows []T, p *paging, key func(T) (time.Time, string)) ([]T, string) {
	more := len(rows) > p.size
	if more {
		rows = rows[:p.size]
	}
	if p.back {
		slices.Reverse(rows) // the store returns a backward page oldest first
	}
	if len(rows) == 0 {
		// Nothing here: the previous page is the first one.
		p.hasPrev = p.token != ""
		return rows, ""
	}
	if (p.back && more) || (!p.back && p.token != "") {
		created, sid := key(rows[0])
		p.prev, p.prevBack, p.hasPrev = store.Cursor(created, sid), true, true
	}
	if p.back || more {
		created, sid := key(rows[len(rows)-1])
		return rows, store.Cursor(created, sid)
	}
	return rows, ""
}

// keysetList is a list endpoint ordered by (date_created, sid): it reads
// paging and the endpoint's own parameters (params, which returns the store
// query to run), trims the page and writes Twilio's envelope under key, with
// the named filters carried into the page URLs.
func keysetList[T any, J any](s *Server, w http.ResponseWriter, r *http.Request, key string, filters []string,
	params func(f *form) func(ctx context.Context, page store.Page) ([]T, error),
	rowKey func(T) (time.Time, string), toJSON func(T) J) {
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	p := f.keysetPaging()
	query := params(f)
	if f.err != nil {
		writeError(w, f.err)
		return
	}
	rows, err := query(r.Context(), p.storePage())
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	rows, next := keysetPage(rows, &p, rowKey)
	out := make([]J, len(rows))
	for i, v := range rows {
		out[i] = toJSON(v)
	}
	writeJSON(w, http.StatusOK, map[string]any{key: out, "meta": s.meta(r, key, p, next, pick(f, filters...))})
}

// fetchOne serves one of the caller's resources named by the path's {sid}.
func fetchOne[T any, J any](s *Server, w http.ResponseWriter, r *http.Request, prefix, path string,
	get func(ctx context.Context, accountSID, sid string) (T, error), toJSON func(T) J) {
	sid, perr := pathSID(r, "sid", prefix)
	if perr != nil {
		writeError(w, perr)
		return
	}
	v, err := get(r.Context(), accountSID(r), sid)
	if err != nil {
		s.fail(w, r, err, path+sid)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(v))
}

// updateOne answers an update of one of the account's resources: the SID from
// the path, the form and the optional If-Match version; update applies set
// (which reads the form into the resource) in the store's transaction.
func updateOne[T any, J any](s *Server, w http.ResponseWriter, r *http.Request, prefix, path string, status int,
	update func(ctx context.Context, accountSID, sid string, ifMatch int, fn func(T) error) (T, error),
	set func(f *form, v T), toJSON func(T) J) {
	sid, perr := pathSID(r, "sid", prefix)
	if perr != nil {
		writeError(w, perr)
		return
	}
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	version, verr := ifMatch(r)
	if verr != nil {
		writeError(w, verr)
		return
	}
	v, err := update(r.Context(), accountSID(r), sid, version, func(v T) error {
		if set(f, v); f.err != nil {
			return f.err
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err, path+sid)
		return
	}
	writeJSON(w, status, toJSON(v))
}

// deleteOne answers the deletion of one of the account's resources.
func deleteOne(s *Server, w http.ResponseWriter, r *http.Request, prefix, path string,
	del func(ctx context.Context, accountSID, sid string) error) {
	sid, perr := pathSID(r, "sid", prefix)
	if perr != nil {
		writeError(w, perr)
		return
	}
	if err := del(r.Context(), accountSID(r), sid); err != nil {
		s.fail(w, r, err, path+sid)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
