package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the API base used when neither [Options.BaseURL] nor
// $CONVOSEAL_URL is set: Twilio's Conversational Intelligence API, which
// convoseal's API is compatible with.
const DefaultBaseURL = "https://intelligence.twilio.com"

// Environment variables read when the corresponding [Options] field is empty.
const (
	EnvURL        = "CONVOSEAL_URL"
	EnvAccountSID = "TWILIO_ACCOUNT_SID"
	EnvAuthToken  = "TWILIO_AUTH_TOKEN"
)

// DefaultMaxRetries is how often a request is retried when [Options.MaxRetries] is 0.
const DefaultMaxRetries = 4

// maxAPIResponse bounds a JSON answer of the API (a page of 1,000 transcripts
// is well below it).
const maxAPIResponse = 32 << 20

// Options configure a [Client]. Empty fields take the defaults named on each.
type Options struct {
	BaseURL    string       // API base, e.g. "http://localhost:8080"; empty: $CONVOSEAL_URL, else [DefaultBaseURL]
	AccountSID string       // empty: $TWILIO_ACCOUNT_SID
	AuthToken  string       // empty: $TWILIO_AUTH_TOKEN
	HTTPClient *http.Client // nil: a client with sane timeouts
	Keys       *Keyring     // private keys for /Encrypted artifacts; may be nil for metadata-only use
	// MaxRetries is how often a request is retried after a 429, a 5xx or a
	// transport error, with exponential backoff and jitter (a Retry-After
	// header is honoured); 0: [DefaultMaxRetries]; negative: never.
	MaxRetries      int
	MaxArtifactSize int64 // bound on one downloaded artifact; 0: [DefaultMaxSize]
	// RetryBaseDelay is the first backoff delay, doubled on each retry (at
	// most [MaxRetryDelay]); 0: 500 ms.
	RetryBaseDelay time.Duration
}

// MaxRetryDelay caps one backoff delay, including one asked for by Retry-After.
const MaxRetryDelay = 60 * time.Second

// Client reads transcripts and their sealed artifacts from the API. It is
// safe for concurrent use.
type Client struct {
	base       *url.URL
	accountSID string
	authToken  string
	hc         *http.Client
	keys       *Keyring
	retries    int
	baseDelay  time.Duration
	dl         *Downloader

	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// New checks o and returns a client. It makes no request.
func New(o Options) (*Client, error) {
	base := o.BaseURL
	if base == "" {
		base = os.Getenv(EnvURL)
	}
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[:port]", RedactURL(base))
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("base URL %s: give credentials as AccountSID and AuthToken, not in the URL", RedactURL(base))
	}
	c := &Client{base: u, accountSID: o.AccountSID, authToken: o.AuthToken, hc: o.HTTPClient, keys: o.Keys,
		retries: o.MaxRetries, baseDelay: o.RetryBaseDelay, sleep: sleepCtx}
	if c.accountSID == "" {
		c.accountSID = os.Getenv(EnvAccountSID)
	}
	if c.authToken == "" {
		c.authToken = os.Getenv(EnvAuthToken)
	}
	if c.accountSID == "" || c.authToken == "" {
		return nil, fmt.Errorf("credentials missing: set the Account SID and Auth Token (or $%s and $%s)", EnvAccountSID, EnvAuthToken)
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.retries == 0 {
		c.retries = DefaultMaxRetries
	}
	if c.retries < 0 {
		c.retries = 0
	}
	if c.baseDelay <= 0 {
		c.baseDelay = 500 * time.Millisecond
	}
	c.dl = &Downloader{HTTP: c.hc, MaxSize: o.MaxArtifactSize}
	return c, nil
}

// Keys returns the keyring the client opens artifacts with (nil if none).
func (c *Client) Keys() *Keyring { return c.keys }

// AccountSID returns the account the client authenticates as.
func (c *Client) AccountSID() string { return c.accountSID }

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	t.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: t, Timeout: 5 * time.Minute}
}

// ErrNotFound is wrapped by the error for an API answer 404: no such
// transcript (or not the caller's).
var ErrNotFound = errors.New("not found")

// ErrNotEncrypted is wrapped by the error of FetchSentences and
// FetchOperatorResults for a transcript that is not sealed with a customer
// key (its Service had no EncryptionCredentialSid when it was created): read
// its plain Sentences and OperatorResults resources instead.
var ErrNotEncrypted = errors.New("transcript is not encrypted with a customer public key")

// ErrNotCompleted is wrapped by the error for a transcript whose results are
// not available (still queued or in progress, or failed): the API answers 409.
var ErrNotCompleted = errors.New("transcript has no results (yet)")

// APIError is an answer of the API other than 2xx, with Twilio's error JSON.
// Its text never includes the Auth Token.
type APIError struct {
	StatusCode int
	Code       int    // Twilio error code, e.g. 20404
	Message    string // the API's message
	MoreInfo   string
	Method     string // of the request
	Path       string // of the request, without its query
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	return s + ": " + msg
}

// Is makes errors.Is(err, ErrNotFound), ErrNotEncrypted and ErrNotCompleted work.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrNotCompleted:
		return e.StatusCode == http.StatusConflict
	case ErrNotEncrypted:
		return e.StatusCode == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "not encrypted with a customer")
	}
	return false
}

func (e *APIError) retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// getJSON GETs path (relative to the base, or an absolute URL on the base's
// host such as meta.next_page_url) with q, retrying as configured, and
// decodes the answer into v.
func (c *Client) getJSON(ctx context.Context, ref string, q url.Values, v any) error {
	u, err := c.resolve(ref)
	if err != nil {
		return err
	}
	if len(q) > 0 {
		vals := u.Query()
		for k, vs := range q {
			vals[k] = vs
		}
		u.RawQuery = vals.Encode()
	}
	var body []byte
	err = c.retry(ctx, func() (time.Duration, bool, error) {
		b, err := c.getOnce(ctx, u)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) {
				return ae.RetryAfter, ae.retryable(), err
			}
			return 0, ctx.Err() == nil, err
		}
		body = b
		return 0, false, nil
	})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: the answer is not the expected JSON: %w", u.Path, err)
	}
	return nil
}

// resolve makes ref a URL on the API's host. An absolute ref (a
// meta.next_page_url) on another host — the installation's public URL may
// name it differently from the base URL — is taken for its path and query
// only: credentials go nowhere but the base URL's host.
func (c *Client) resolve(ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("bad API path %q", RedactURL(ref))
	}
	if r.IsAbs() && r.Scheme == c.base.Scheme && r.Host == c.base.Host {
		r.User = nil
		return r, nil
	}
	u := *c.base
	prefix := strings.TrimRight(c.base.Path, "/")
	if prefix != "" && (r.Path == prefix || strings.HasPrefix(r.Path, prefix+"/")) {
		u.Path = r.Path
	} else {
		u.Path = prefix + "/" + strings.TrimLeft(r.Path, "/")
	}
	u.RawPath = ""
	u.RawQuery = r.RawQuery
	return &u, nil
}

func (c *Client) getOnce(ctx context.Context, u *url.URL) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u.Path, err)
	}
	req.SetBasicAuth(c.accountSID, c.authToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %w", u.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the answer: %w", u.Path, err)
	}
	if len(body) > maxAPIResponse {
		return nil, &APIError{StatusCode: resp.StatusCode, Method: http.MethodGet, Path: u.Path,
			Message: fmt.Sprintf("the answer is larger than %d bytes", maxAPIResponse)}
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{StatusCode: resp.StatusCode, Method: http.MethodGet, Path: u.Path,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		var tw struct {
			Code     int    `json:"code"`
			Message  string `json:"message"`
			MoreInfo string `json:"more_info"`
		}
		if json.Unmarshal(body, &tw) == nil {
			ae.Code, ae.Message, ae.MoreInfo = tw.Code, tw.Message, tw.MoreInfo
		}
		ae.Message = c.scrub(ae.Message)
		ae.MoreInfo = c.scrub(ae.MoreInfo)
		return nil, ae
	}
	return body, nil
}

// scrub removes the Auth Token, and the Basic credentials made from it, from
// s (echoed by a misbehaving server).
func (c *Client) scrub(s string) string {
	basic := base64.StdEncoding.EncodeToString([]byte(c.accountSID + ":" + c.authToken))
	for _, secret := range []string{basic, strings.TrimRight(basic, "="), c.authToken} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// retry runs op until it succeeds, fails for good, or the retries are used
// up. op returns a server-asked delay (Retry-After, or 0), whether its error
// is worth retrying, and the error.
func (c *Client) retry(ctx context.Context, op func() (time.Duration, bool, error)) error {
	for attempt := 0; ; attempt++ {
		after, again, err := op()
		if err == nil {
			return nil
		}
		if !again || attempt >= c.retries || ctx.Err() != nil {
			if attempt > 0 && again {
				return fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
			}
			return err
		}
		if serr := c.sleep(ctx, c.backoff(attempt, after)); serr != nil {
			return fmt.Errorf("%w (while waiting to retry: %w)", err, serr)
		}
	}
}

// backoff is the delay before retry number attempt+1: Retry-After when the
// server gave one, else base·2^attempt with full jitter in its upper half.
func (c *Client) backoff(attempt int, after time.Duration) time.Duration {
	if after > 0 {
		return min(after, MaxRetryDelay)
	}
	d := c.baseDelay << min(attempt, 16)
	d = min(d, MaxRetryDelay)
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, int(MaxRetryDelay/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryDelay)
	}
	return 0
}
