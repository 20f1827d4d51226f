package blob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PathPrefix is the URL path under which [Local.Handler] serves objects:
// mount the handler at it, without stripping it.
const PathPrefix = "/blobs/"

// Query parameters of a [Local.Location] URL.
const (
	ExpiresParam   = "X-Convoseal-Expires"   // Unix time (seconds) after which the URL is refused
	SignatureParam = "X-Convoseal-Signature" // base64url(HMAC-SHA256(key, "GET\n"+key+"\n"+expires)), unpadded, canonical
)

// Location implements [Store.Location]. The URL is
//
//	<publicBaseURL>/blobs/<key>?X-Convoseal-Expires=<unix>&X-Convoseal-Signature=<sig>
//
// where sig is the unpadded base64url HMAC-SHA256, under the signing key, of
// "GET\n" + key + "\n" + expires (expires exactly as it appears in the URL).
// Keys need no escaping in a URL path.
func (l *Local) Location(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if expiry <= 0 || expiry > MaxLocationExpiry {
		return "", fmt.Errorf("blob: location expiry %v is not between 0 and %v", expiry, MaxLocationExpiry)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	expires := strconv.FormatInt(l.now().Add(expiry).Unix(), 10)
	return l.baseURL + PathPrefix + key + "?" + ExpiresParam + "=" + expires +
		"&" + SignatureParam + "=" + l.sign(key, expires), nil
}

func (l *Local) mac(key, expires string) []byte {
	m := hmac.New(sha256.New, l.signingKey)
	m.Write([]byte("GET\n" + key + "\n" + expires))
	return m.Sum(nil)
}

func (l *Local) sign(key, expires string) string {
	return base64.RawURLEncoding.EncodeToString(l.mac(key, expires))
}

// S3-style error responses.
const (
	msgExpired       = "Request has expired"
	msgSignature     = "The request signature we calculated does not match the signature you provided."
	msgMissingParams = "Query-string authentication requires the " + SignatureParam + " and " + ExpiresParam + " parameters"
	msgNoSuchKey     = "The specified key does not exist."
	msgMethod        = "The specified method is not allowed against this resource."
	msgInternal      = "We encountered an internal error. Please try again."
)

// Handler returns the HTTP handler serving GET and HEAD of the URLs made by
// [Local.Location], at paths beginning with [PathPrefix].
//
// A request whose signature does not match, which has expired, or which is
// not spelled exactly as Location wrote it (one URL has one spelling: no
// padding or unused bits in the signature, no percent-encoding, no other
// parameters) gets 403
// with an S3-style XML error (code AccessDenied, message "The request
// signature we calculated does not match…" or "Request has expired"); a
// missing object 404 (NoSuchKey); another method 405. Success is 200 with the
// body as application/octet-stream, Content-Length, Cache-Control: no-store
// and one lowercase x-amz-meta-<key> header per metadata entry. Error
// responses never include file system paths or error details; those go to
// [Local.ErrorLog].
func (l *Local) Handler() http.Handler {
	return http.HandlerFunc(l.serveHTTP)
}

func (l *Local) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", msgMethod)
		return
	}
	// The key as sent: keys need no escaping, so a percent-encoded spelling
	// (such as %2F for "/") is not the signed key and fails the signature.
	key, ok := strings.CutPrefix(r.URL.EscapedPath(), PathPrefix)
	if !ok {
		writeError(w, http.StatusNotFound, "NoSuchKey", msgNoSuchKey)
		return
	}
	expires, sig, canonical := parseQuery(r.URL.RawQuery)
	if !canonical {
		q := r.URL.Query()
		if q.Get(ExpiresParam) == "" || q.Get(SignatureParam) == "" {
			writeError(w, http.StatusForbidden, "AccessDenied", msgMissingParams)
			return
		}
		writeError(w, http.StatusForbidden, "SignatureDoesNotMatch", msgSignature)
		return
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, l.mac(key, expires)) {
		writeError(w, http.StatusForbidden, "SignatureDoesNotMatch", msgSignature)
		return
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || !l.now().Before(time.Unix(exp, 0)) {
		writeError(w, http.StatusForbidden, "AccessDenied", msgExpired)
		return
	}

	o, err := l.open(key)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidKey) {
			writeError(w, http.StatusNotFound, "NoSuchKey", msgNoSuchKey)
			return
		}
		l.logError(r, key, err)
		writeError(w, http.StatusInternalServerError, "InternalError", msgInternal)
		return
	}
	defer o.f.Close()

	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(o.bodyLen, 10))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	for k, v := range o.meta {
		// Lowercase on the wire, as S3 sends them (Header.Set would
		// canonicalize to X-Amz-Meta-…; header names are case-insensitive
		// to every client anyway).
		h["x-amz-meta-"+k] = []string{v}
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.CopyN(w, o.r, o.bodyLen); err != nil && r.Context().Err() == nil {
		// Headers are gone; the short body tells the client.
		l.logError(r, key, err)
	}
}

// parseQuery splits a query string spelled exactly as [Local.Location]
// writes it, "X-Convoseal-Expires=<expires>&X-Convoseal-Signature=<sig>", with
// neither value empty; ok is false for any other spelling (reordered,
// repeated, extra or percent-encoded parameters). The values are returned as
// sent: the signature covers expires as written, and sig must then decode
// strictly, so that one Location has one spelling.
func parseQuery(raw string) (expires, sig string, ok bool) {
	rest, ok := strings.CutPrefix(raw, ExpiresParam+"=")
	if !ok {
		return "", "", false
	}
	expires, sig, ok = strings.Cut(rest, "&"+SignatureParam+"=")
	if !ok || expires == "" || sig == "" || strings.ContainsAny(expires, "&%") {
		return "", "", false
	}
	return expires, sig, true
}

func (l *Local) logError(r *http.Request, key string, err error) {
	if l.ErrorLog != nil {
		l.ErrorLog.ErrorContext(r.Context(), "blob download failed", "key", key, "err", err)
	}
}

// writeError writes an S3-style XML error. Code and message are constants.
func writeError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		"<Error><Code>"+code+"</Code><Message>"+message+"</Message></Error>\n")
}
