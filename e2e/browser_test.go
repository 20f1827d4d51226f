package e2e

// A small harness for the browser tests of the web console: headless
// Chromium driven over the DevTools protocol (chromedp), with helpers that
// find controls the way a user does (by their label or their text), and a
// recorder of every request the page makes.
//
// Chromium is Debian's /usr/bin/chromium (or $CONVOSEAL_CHROMIUM). Without it
// the browser tests skip, or fail when CONVOSEAL_REQUIRE_BROWSER=1 (as
// scripts/test sets). Screenshots go to $CONVOSEAL_ARTIFACTS_DIR/screenshots,
// else to .tmp/screenshots at the repository's root (gitignored); every test
// that fails saves one of the page as it was.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds the browser, or skips (fails under
// CONVOSEAL_REQUIRE_BROWSER=1) with the reason.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CONVOSEAL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium for the browser tests: apt-get install -y chromium (scripts/test installs it), or set CONVOSEAL_CHROMIUM"
	if os.Getenv("CONVOSEAL_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Browser is one headless Chromium with one tab, for one test.
type Browser struct {
	t *testing.T
	// Ctx is the tab, bounded by the test's timeout.
	Ctx context.Context
	tab context.Context // the tab, unbounded
	// Origin is the server's origin the page is expected to talk to.
	Origin string
	Net    *Recorder
	// console holds what the page logged (console API, exceptions, browser
	// log entries such as CSP reports).
	consoleMu sync.Mutex
	console   []string
}

// NewBrowser starts Chromium headless with a fresh profile, opens a tab
// recording its requests and console, and ends it all when the test ends.
// origin is the server the console is served from (http://localhost:PORT).
func NewBrowser(t *testing.T, origin string, timeout time.Duration) *Browser {
	t.Helper()
	exe := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
		chromedp.DisableGPU,
		// No background traffic of the browser itself (updates, field trials).
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	b := &Browser{t: t, Origin: origin, Net: &Recorder{byID: map[network.RequestID]*Request{}}}
	// Listen opens the tab and sees every event from then on, in order.
	if err := chromedp.Listen(tabCtx, b.listen); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("starting Chromium (%s): %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(tabCtx, timeout)
	b.Ctx, b.tab = ctx, tabCtx
	t.Cleanup(func() {
		if t.Failed() {
			b.Screenshot("failed-" + t.Name())
			b.consoleMu.Lock()
			if len(b.console) > 0 {
				t.Logf("browser console:\n  %s", strings.Join(b.console, "\n  "))
			}
			b.consoleMu.Unlock()
		}
		cancel()
		cancelTab()
		cancelAlloc()
	})
	// Request bodies whole in the events (the default cuts long ones), and a
	// record of every Content-Security-Policy violation the document reports.
	maxPost := int64(64 << 20)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{MaxPostDataSize: &maxPost}); err != nil {
		t.Fatalf("Network.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("installing the CSP probe: %v", err)
	}
	return b
}

// cspProbe runs before the page's own scripts (injected over DevTools, so
// the page's CSP does not apply to it) and keeps the page's CSP violations.
const cspProbe = `window.__e2eCSP = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__e2eCSP.push(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' at ' + e.sourceFile + ':' + e.lineNumber);
}, true);`

// listen runs in the tab's event loop: it only records.
func (b *Browser) listen(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.Net.add(ev)
	case *network.EventRequestWillBeSentExtraInfo:
		b.Net.extra(ev)
	case *network.EventResponseReceived:
		b.Net.response(ev.RequestID, ev.Response.Status)
	case *network.EventLoadingFailed:
		b.Net.failed(ev.RequestID, ev.ErrorText+" "+string(ev.BlockedReason))
	case *network.EventWebSocketCreated:
		b.Net.addOther(string(ev.RequestID), "WS", ev.URL, nil, "")
	case *network.EventWebSocketWillSendHandshakeRequest:
		b.Net.addOther(string(ev.RequestID)+"-handshake", "WS-HANDSHAKE", "", ev.Request.Headers, "")
	case *network.EventWebSocketFrameSent:
		b.Net.addOther(string(ev.RequestID)+"-frame", "WS-FRAME", "", nil, string(ev.Response.PayloadData))
	case *network.EventEventSourceMessageReceived:
		// incoming only; nothing leaves the browser
	}
	if m, ok := consoleText(ev); ok {
		m = signatures.ReplaceAllString(m, "${1}=…")
		b.consoleMu.Lock()
		b.console = append(b.console, m)
		b.consoleMu.Unlock()
	}
}

// signatures are the secret parts of signed URLs, kept out of test logs.
var signatures = regexp.MustCompile(`(?i)(X-Amz-Signature|X-Amz-Credential|X-Convoseal-Signature)=[^&\s)]*`)

// Console is what the page has logged so far: console calls, uncaught
// exceptions and the browser's log entries (CSP reports among them).
func (b *Browser) Console() []string {
	b.consoleMu.Lock()
	defer b.consoleMu.Unlock()
	return append([]string(nil), b.console...)
}

// CSPViolations are the violations the document reported (the
// securitypolicyviolation events) plus console lines that mention the
// Content Security Policy.
func (b *Browser) CSPViolations() []string {
	b.t.Helper()
	got, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`window.__e2eCSP || []`))
	if err != nil {
		b.t.Fatalf("reading CSP violations: %v", err)
	}
	for _, l := range b.Console() {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Content-Security-Policy") {
			got = append(got, "console: "+l)
		}
	}
	return got
}

// ---------------------------------------------------------------- recorder

// Request is one request the page made (or a WebSocket frame it sent).
type Request struct {
	ID      string
	Method  string // "WS", "WS-HANDSHAKE", "WS-FRAME" for WebSocket traffic
	URL     string
	Type    string // Document, Script, Fetch, XHR, Image, …
	Headers map[string]string
	// WireHeaders are the headers as sent on the wire (from the network
	// stack, with Authorization and cookies), when Chromium reports them.
	WireHeaders map[string]string
	Body        []byte
	HasPostData bool
	Status      int64
	Failure     string
}

// Recorder keeps every request of the tab, in order.
type Recorder struct {
	mu   sync.Mutex
	reqs []*Request
	byID map[network.RequestID]*Request
}

func headersMap(h network.Headers) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func (r *Recorder) add(ev *network.EventRequestWillBeSent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := &Request{ID: string(ev.RequestID), Method: ev.Request.Method, URL: ev.Request.URL + ev.Request.URLFragment,
		Type: string(ev.Type), Headers: headersMap(ev.Request.Headers), HasPostData: ev.Request.HasPostData}
	for _, e := range ev.Request.PostDataEntries {
		q.Body = append(q.Body, e.Bytes...)
	}
	// A redirect reuses the ID: each hop is a request of its own.
	r.reqs = append(r.reqs, q)
	r.byID[ev.RequestID] = q
}

func (r *Recorder) extra(ev *network.EventRequestWillBeSentExtraInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.byID[ev.RequestID]
	if q == nil {
		// The extra info can come first: keep it as a request of its own,
		// so its headers are scanned all the same.
		q = &Request{ID: string(ev.RequestID), Method: "(extra-info)"}
		r.reqs = append(r.reqs, q)
		r.byID[ev.RequestID] = q
	}
	if q.WireHeaders == nil {
		q.WireHeaders = map[string]string{}
	}
	for k, v := range headersMap(ev.Headers) {
		q.WireHeaders[k] = v
	}
}

func (r *Recorder) response(id network.RequestID, status int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q := r.byID[id]; q != nil {
		q.Status = status
	}
}

func (r *Recorder) failed(id network.RequestID, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q := r.byID[id]; q != nil {
		q.Failure = why
	}
}

func (r *Recorder) addOther(id, method, u string, h network.Headers, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, &Request{ID: id, Method: method, URL: u, Headers: headersMap(h), Body: []byte(body)})
}

// Requests returns a copy of what was recorded so far; a body Chromium left
// out of its event is fetched with Network.getRequestPostData.
func (b *Browser) Requests() []Request {
	b.t.Helper()
	b.Net.mu.Lock()
	var missing []*Request
	for _, q := range b.Net.reqs {
		if q.HasPostData && len(q.Body) == 0 {
			missing = append(missing, q)
		}
	}
	b.Net.mu.Unlock()
	for _, q := range missing {
		res, err := chromedp.Call(b.Ctx, network.GetRequestPostData, network.GetRequestPostDataParams{RequestID: network.RequestID(q.ID)})
		if err != nil {
			b.t.Fatalf("the body of %s %s was not in its event and cannot be read: %v", q.Method, q.URL, err)
		}
		body := res.PostData // decoded from base64 by cdproto when the browser sent it so
		b.Net.mu.Lock()
		q.Body = body
		b.Net.mu.Unlock()
	}
	b.Net.mu.Lock()
	defer b.Net.mu.Unlock()
	out := make([]Request, len(b.Net.reqs))
	for i, q := range b.Net.reqs {
		out[i] = *q
	}
	return out
}

// leaves reports whether the request goes over the network (data: and
// blob: URLs stay in the browser).
func (q Request) leaves() bool {
	return !strings.HasPrefix(q.URL, "data:") && !strings.HasPrefix(q.URL, "blob:")
}

func (q Request) String() string {
	u := q.URL
	if len(u) > 160 {
		u = u[:160] + "…"
	}
	return fmt.Sprintf("%s %s (%s, %d)", q.Method, u, q.Type, q.Status)
}

// Secret is a value that must not leave the browser, and the forms it could
// take in a request.
type Secret struct {
	Name  string
	Forms []string
}

// NewSecret makes a Secret of a text value: as it is, URL-encoded (query
// and path), JSON-escaped, and, for values of 12 bytes or more, base64.
func NewSecret(name, value string) Secret {
	forms := []string{value, url.QueryEscape(value), url.PathEscape(value)}
	if j, err := json.Marshal(value); err == nil {
		forms = append(forms, strings.Trim(string(j), `"`))
	}
	if len(value) >= 12 {
		forms = append(forms, base64.StdEncoding.EncodeToString([]byte(value)), base64.RawURLEncoding.EncodeToString([]byte(value)))
	}
	return Secret{Name: name, Forms: dedupe(forms)}
}

// BytesSecret makes a Secret of binary data: base64 (standard, URL, with
// and without padding) and hex (either case).
func BytesSecret(name string, data []byte) Secret {
	return Secret{Name: name, Forms: dedupe([]string{
		base64.StdEncoding.EncodeToString(data), base64.RawStdEncoding.EncodeToString(data),
		base64.URLEncoding.EncodeToString(data), base64.RawURLEncoding.EncodeToString(data),
		fmt.Sprintf("%x", data), fmt.Sprintf("%X", data),
	})}
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Leak is a secret found in a request.
type Leak struct {
	Secret, Where string
	Request       Request
}

// Scan looks for every secret in every request that leaves the browser: its
// URL (as sent and decoded), each header (name and value, as the page set
// it and as sent on the wire) and its body (as sent and form-decoded).
func Scan(reqs []Request, secrets []Secret) []Leak {
	var leaks []Leak
	for _, q := range reqs {
		if !q.leaves() {
			continue
		}
		places := map[string]string{"URL": q.URL}
		if u, err := url.QueryUnescape(q.URL); err == nil {
			places["URL (decoded)"] = u
		}
		for k, v := range q.Headers {
			places["header "+k] = k + ": " + v
		}
		for k, v := range q.WireHeaders {
			places["wire header "+k] = k + ": " + v
		}
		places["body"] = string(q.Body)
		if u, err := url.QueryUnescape(string(q.Body)); err == nil {
			places["body (decoded)"] = u
		}
		for where, text := range places {
			for _, s := range secrets {
				for _, f := range s.Forms {
					if strings.Contains(text, f) {
						leaks = append(leaks, Leak{Secret: s.Name, Where: where, Request: q})
						break
					}
				}
			}
		}
	}
	return leaks
}

// ---------------------------------------------------------------- actions

// js is the page-side helper every lookup uses: elements by their label,
// buttons and links by their text, in a scope (a CSS selector, "" for the
// document), visible ones first.
const js = `
const __norm = s => (s || '').replace(/\s+/g, ' ').trim();
const __visible = el => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const __scope = sel => sel ? document.querySelector(sel) : document;
const __labelMatches = (text, want) => text === want || (text.startsWith(want) && !/[A-Za-z0-9]/.test(text.charAt(want.length)));
function __byLabel(sel, want) {
  const root = __scope(sel); if (!root) return null;
  const found = [];
  for (const l of root.querySelectorAll('label')) {
    if (!l.control) continue;
    let text = __norm(l.textContent);
    if (l.control.closest('label') === l && l.control.tagName === 'SELECT') text = __norm(Array.from(l.childNodes).filter(n => n !== l.control).map(n => n.textContent).join(' '));
    if (__labelMatches(text, want)) found.push(l);
  }
  const vis = found.filter(l => __visible(l) || __visible(l.control));
  const l = vis[0] || null;
  return l ? l.control : null;
}
function __byText(sel, tags, want) {
  const root = __scope(sel); if (!root) return null;
  const all = Array.from(root.querySelectorAll(tags)).filter(e => __norm(e.textContent || e.value) === want || __norm(e.getAttribute('aria-label')) === want);
  return all.filter(__visible)[0] || null;
}
`

// jsCall is an expression that runs the page-side helper fn with args.
func jsCall(fn string, args ...any) string {
	var a []string
	for _, x := range args {
		j, _ := json.Marshal(x)
		a = append(a, string(j))
	}
	return "(() => {" + js + "return " + fn + "(" + strings.Join(a, ",") + ");})()"
}

// fatal fails the test with err and where it happened.
func (b *Browser) fatal(what string, err error) {
	b.t.Helper()
	b.t.Fatalf("browser: %s: %v", what, err)
}

// Go opens a URL of the server (path like "/console#/keys").
func (b *Browser) Go(path string) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(b.Origin+path)); err != nil {
		b.fatal("navigate "+path, err)
	}
}

// Hash switches the single-page app to a route without reloading it.
func (b *Browser) Hash(route string) {
	b.t.Helper()
	b.Eval(fmt.Sprintf(`location.hash = %q`, route), nil)
}

// Route switches the app to route and waits for css to be visible there,
// switching again while the app is still moving elsewhere by itself (after
// a form, say).
func (b *Browser) Route(route, css string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%s on %s", css, route), jsCall(`((route, sel) => {
	  if (location.hash !== route) { location.hash = route; return 'switching'; }
	  return Array.from(document.querySelectorAll(sel)).some(__visible) ? '' : 'not visible yet'; })`, route, css))
}

// Eval evaluates an expression in the page; out (a pointer or nil) gets its
// JSON value.
func (b *Browser) Eval(expr string, out any) {
	b.t.Helper()
	raw, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fatal("evaluate "+firstLine(expr), err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.fatal("result of "+firstLine(expr), err)
		}
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + "…"
	}
	return s
}

// waitFor polls the page until check (an expression giving "" when done,
// what is still missing, or "FAIL: why" to stop waiting) is satisfied.
func (b *Browser) waitFor(what, check string) {
	b.t.Helper()
	var last string
	for {
		raw, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]byte](check))
		if err != nil {
			if b.Ctx.Err() != nil {
				b.t.Fatalf("browser: waiting for %s: %v (last: %s)", what, err, last)
			}
			last = err.Error() // e.g. the page is navigating
		} else {
			var msg string
			if json.Unmarshal(raw, &msg) == nil && msg == "" {
				return
			}
			if strings.HasPrefix(msg, "FAIL: ") { // the check says waiting is pointless
				b.t.Fatalf("browser: waiting for %s: %s", what, strings.TrimPrefix(msg, "FAIL: "))
			}
			last = msg
		}
		select {
		case <-b.Ctx.Done():
			b.t.Fatalf("browser: waiting for %s: %v (last: %s)", what, b.Ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// setControl waits for the control labelled label (in scope) and runs body
// on it (as "el"), which gives "" or a complaint.
func (b *Browser) setControl(scope, label, body string) {
	b.t.Helper()
	fn := "(sel, want) => { const el = __byLabel(sel, want); if (!el) return 'no visible control labelled ' + want; " + body + " }"
	b.waitFor(fmt.Sprintf("the control labelled %q", label), jsCall("("+fn+")", scope, label))
}

// Fill types value into the input or textarea labelled label.
func (b *Browser) Fill(scope, label, value string) {
	b.t.Helper()
	j, _ := json.Marshal(value)
	b.setControl(scope, label, `if (el.disabled) return 'disabled';
const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
el.focus(); Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, `+string(j)+`);
el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true}));
return '';`)
}

// Select picks the option of the select labelled label whose value or text
// is choice.
func (b *Browser) Select(scope, label, choice string) {
	b.t.Helper()
	j, _ := json.Marshal(choice)
	b.setControl(scope, label, `if (el.tagName !== 'SELECT') return 'not a select';
const o = Array.from(el.options).find(o => o.value === `+string(j)+` || __norm(o.textContent) === `+string(j)+`);
if (!o) return 'no option ' + `+string(j)+` + ' among ' + Array.from(el.options).map(o => o.value + '=' + __norm(o.textContent)).join(', ');
el.focus(); el.value = o.value;
el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true}));
return '';`)
}

// Check sets the checkbox labelled label (by clicking it when it differs).
func (b *Browser) Check(scope, label string, on bool) {
	b.t.Helper()
	b.setControl(scope, label, fmt.Sprintf(`if (el.type !== 'checkbox') return 'not a checkbox';
if (el.checked !== %t) el.click(); return el.checked === %t ? '' : 'did not change';`, on, on))
}

// Upload sets the file of the file input labelled label.
func (b *Browser) Upload(scope, label, file string) {
	b.t.Helper()
	b.setControl(scope, label, `return el.type === 'file' ? '' : 'not a file input';`)
	sel := chromedp.JSPath(jsCall("__byLabel", scope, label))
	if err := chromedp.Do(b.Ctx, chromedp.SetUploadFiles(sel, []string{file})); err != nil {
		b.fatal("upload to "+label, err)
	}
}

// Click clicks (with the mouse) the visible button whose text or
// aria-label is text.
func (b *Browser) Click(scope, text string) {
	b.t.Helper()
	b.clickWhat(scope, "button, input[type=submit], input[type=button], [role=button]", text)
}

// ClickLink clicks the visible link whose text is text.
func (b *Browser) ClickLink(scope, text string) {
	b.t.Helper()
	b.clickWhat(scope, "a", text)
}

func (b *Browser) clickWhat(scope, tags, text string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%q to click", text), jsCall(`((sel, tags, want) => { const el = __byText(sel, tags, want);
	  if (!el) return 'no visible ' + tags + ' with text ' + want; if (el.disabled) return 'disabled'; return ''; })`, scope, tags, text))
	sel := chromedp.JSPath(jsCall("__byText", scope, tags, text))
	if err := chromedp.Do(b.Ctx, chromedp.Click(sel)); err != nil {
		b.fatal("click "+text, err)
	}
}

// testID is the CSS selector of a data-testid.
func testID(id string) string { return fmt.Sprintf(`[data-testid=%q]`, id) }

// WaitVisible waits until an element matching css is visible.
func (b *Browser) WaitVisible(css string) {
	b.t.Helper()
	b.waitFor(css+" to be visible", jsCall(`(sel => { const el = Array.from(document.querySelectorAll(sel)).find(__visible); return el ? '' : 'not visible'; })`, css))
}

// WaitText waits until the text of the first visible css element contains
// want, and returns that text.
func (b *Browser) WaitText(css, want string) string {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%s to say %q", css, want), jsCall(`((sel, want) => {
	  const el = Array.from(document.querySelectorAll(sel)).find(__visible);
	  if (!el) return 'not visible'; const t = __norm(el.innerText);
	  return t.includes(want) ? '' : 'text is: ' + t; })`, css, want))
	return b.Text(css)
}

// Text is the visible text (innerText, spaces collapsed) of the first
// element matching css.
func (b *Browser) Text(css string) string {
	b.t.Helper()
	var s *string
	b.Eval(jsCall(`(sel => { const el = document.querySelector(sel); return el ? __norm(el.innerText) : null; })`, css), &s)
	if s == nil {
		b.t.Fatalf("browser: no element %s", css)
	}
	return *s
}

// Screenshot saves a full-page PNG under the screenshot directory and
// returns its path (logged).
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	dir := os.Getenv("CONVOSEAL_ARTIFACTS_DIR")
	if dir != "" {
		dir = filepath.Join(dir, "screenshots")
	} else {
		dir = filepath.Join("..", ".tmp", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.t.Errorf("screenshot directory: %v", err)
		return ""
	}
	ctx := b.Ctx
	if ctx.Err() != nil { // a test that timed out still gets its picture
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(b.tab, 10*time.Second)
		defer cancel()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	f := filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(f, png, 0o600); err != nil {
		b.t.Errorf("screenshot: %v", err)
		return ""
	}
	abs, _ := filepath.Abs(f)
	b.t.Logf("screenshot: %s", abs)
	return abs
}

// PressTab presses Tab (shift: Shift+Tab) and returns a description of the
// element that has the focus then.
func (b *Browser) PressTab() string {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, chromedp.KeyEvent("\t")); err != nil {
		b.fatal("press Tab", err)
	}
	return b.Focused()
}

// Focused describes the element that has the focus: its tag, label and,
// for buttons and links, text.
func (b *Browser) Focused() string {
	b.t.Helper()
	var d string
	b.Eval(jsCall(`(() => { const el = document.activeElement; if (!el || el === document.body) return '(body)';
	  const l = el.labels && el.labels[0] ? __norm(el.labels[0].textContent) : '';
	  return el.tagName.toLowerCase() + (l ? ' labelled ' + l : '') + (el.tagName === 'BUTTON' || el.tagName === 'A' ? ' ' + __norm(el.textContent) : ''); })`), &d)
	return d
}

// DelayRequests holds every request whose URL matches pattern (DevTools
// wildcards) for d before letting it go, as a slow network would, until the
// returned stop is called (then the held ones go at once and no more are
// held).
func (b *Browser) DelayRequests(pattern string, d time.Duration) (stop func()) {
	b.t.Helper()
	var delay atomic.Int64
	delay.Store(int64(d))
	paused := chromedp.Events(b.Ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(b.Ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		b.fatal("Fetch.enable", err)
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			go func() {
				time.Sleep(time.Duration(delay.Load()))
				_, _ = chromedp.Call(b.Ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			}()
		}
	}()
	return func() {
		delay.Store(0) // the held ones go now
		if _, err := chromedp.Call(b.Ctx, fetch.Disable, cdp.Empty{}); err != nil {
			b.t.Errorf("Fetch.disable: %v", err)
		}
	}
}

// SignIn signs in to the console with the server's bootstrap account.
func (b *Browser) SignIn(s *Server) {
	b.t.Helper()
	b.Go("/console")
	b.Fill(testID("signin"), "Account SID", s.AccountSID)
	b.Fill(testID("signin"), "Auth Token", s.AuthToken)
	b.Click(testID("signin"), "Sign in")
	b.WaitVisible(`nav[aria-label="Main"]`)
}

// consoleText formats a console call, an uncaught exception or a browser
// log entry, or reports false for any other event.
func consoleText(ev any) (string, bool) {
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			}
		}
		return "console." + string(e.Type) + ": " + strings.Join(parts, " "), true
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		return fmt.Sprintf("exception: %s (%s:%d)", text, d.URL, d.LineNumber+1), true
	case *cdplog.EventEntryAdded:
		return fmt.Sprintf("log %s/%s: %s (%s)", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL), true
	}
	return "", false
}

// TestBrowserHarness checks the harness itself on a tiny page: the label and
// text lookups, the upload, and that the recorder sees a request's URL,
// headers and body, and the CSP probe a violation.
func TestBrowserHarness(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'")
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>t</title><form id="f"><label for="n">Name</label><input id="n">
<label for="k">Key file</label><input id="k" type="file"><label>Notes <textarea id="x"></textarea></label>
<button type="button" id="go">Send it</button></form><output data-testid="out"></output><script src="/app.js"></script>`)
	})
	mux.HandleFunc("/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.getElementById('go').addEventListener('click', async () => {
  const f = document.getElementById('k').files[0];
  const text = f ? await f.text() : '';
  const r = await fetch('/echo?name=' + encodeURIComponent(document.getElementById('n').value),
    {method: 'POST', headers: {'X-Notes': document.getElementById('x').value}, body: text});
  document.querySelector('[data-testid=out]').textContent = 'sent ' + (await r.text());
});`)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := NewBrowser(t, srv.URL, time.Minute)
	b.Go("/")
	b.Fill("#f", "Name", "José Ñúñez")
	b.Fill("", "Notes", "a note")
	file := filepath.Join(t.TempDir(), "k.pem")
	os.WriteFile(file, []byte("-----BEGIN PRIVATE KEY-----\nAAAAsecretsecret\n"), 0o600)
	b.Upload("", "Key file", file)
	b.Click("", "Send it")
	if got := b.WaitText(testID("out"), "sent ok"); got != "sent ok" {
		t.Fatalf("output %q", got)
	}
	leaks := Scan(b.Requests(), []Secret{NewSecret("name", "José Ñúñez"), NewSecret("notes", "a note"), NewSecret("key", "AAAAsecretsecret"), NewSecret("absent", "never sent")})
	found := map[string]bool{}
	for _, l := range leaks {
		found[l.Secret+" in "+strings.SplitN(l.Where, " ", 2)[0]] = true
	}
	for _, want := range []string{"name in URL", "notes in header", "key in body"} {
		if !found[want] {
			t.Errorf("the scan did not find %s; it found %v", want, found)
		}
	}
	for f := range found {
		if strings.HasPrefix(f, "absent") {
			t.Errorf("the scan found what was not sent: %s", f)
		}
	}
	// An inline script breaks the page's CSP: the probe must see it.
	b.Eval(`document.body.appendChild(Object.assign(document.createElement('script'), {textContent: 'window.x = 1'})); true`, nil)
	b.waitFor("a CSP violation", `(window.__e2eCSP || []).length ? '' : 'none yet'`)
	if v := b.CSPViolations(); len(v) == 0 || !strings.Contains(strings.Join(v, " "), "script-src") {
		t.Errorf("CSP violations: %v", v)
	}
	b.Screenshot("harness")
}
