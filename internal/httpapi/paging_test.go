package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
)

// listPage fetches a list URL (absolute, as meta gives it) and returns the
// SIDs under key and the meta.
func listPage(t *testing.T, f *mediaFixture, u, key string) ([]string, map[string]any) {
	t.Helper()
	code, m := f.json(t, http.MethodGet, strings.TrimPrefix(u, "http://api.test"), nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, code, m)
	}
	var sids []string
	for _, v := range m[key].([]any) {
		sids = append(sids, v.(map[string]any)["sid"].(string))
	}
	return sids, m["meta"].(map[string]any)
}

// Paging forward with next_page_url and back with previous_page_url visits
// the same pages, as an SDK's nextPage()/previousPage() do; page 0 has no
// previous page.
func TestKeysetPagingBackAndForth(t *testing.T) {
	f := newMediaFixture(t)
	for i := range 5 {
		if code, m := f.json(t, http.MethodPost, "/v2/Services", url.Values{"UniqueName": {"svc" + itoa(i)}}); code != http.StatusCreated {
			t.Fatalf("creating a Service: %d %v", code, m)
		}
	}
	var pages [][]string
	u := "/v2/Services?PageSize=2"
	var meta map[string]any
	for u != "" {
		var sids []string
		sids, meta = listPage(t, f, u, "services")
		pages = append(pages, sids)
		if want := float64(len(pages) - 1); meta["page"] != want {
			t.Fatalf("page %d labelled %v", len(pages)-1, meta["page"])
		}
		if len(pages) == 1 && meta["previous_page_url"] != nil {
			t.Fatalf("page 0 has previous_page_url %v", meta["previous_page_url"])
		}
		u, _ = meta["next_page_url"].(string)
	}
	if len(pages) != 3 || len(pages[2]) != 1 {
		t.Fatalf("pages forward: %v", pages)
	}
	for i := len(pages) - 1; i > 0; i-- {
		prev, ok := meta["previous_page_url"].(string)
		if !ok {
			t.Fatalf("page %d has no previous_page_url", i)
		}
		var sids []string
		sids, meta = listPage(t, f, prev, "services")
		if strings.Join(sids, ",") != strings.Join(pages[i-1], ",") {
			t.Fatalf("previous of page %d = %v, want %v", i, sids, pages[i-1])
		}
		if meta["page"] != float64(i-1) {
			t.Fatalf("previous of page %d labelled %v", i, meta["page"])
		}
		// Forward again from a page reached backwards.
		if next, _ := meta["next_page_url"].(string); next == "" {
			t.Fatalf("page %d reached backwards has no next_page_url", i-1)
		} else if again, _ := listPage(t, f, next, "services"); strings.Join(again, ",") != strings.Join(pages[i], ",") {
			t.Fatalf("next of page %d reached backwards = %v, want %v", i-1, again, pages[i])
		}
	}
	if meta["previous_page_url"] != nil {
		t.Fatalf("page 0 reached backwards has previous_page_url %v", meta["previous_page_url"])
	}
}

// A bare Page=N on a keyset list is refused rather than answered with page
// 0's rows; on an offset list it is the Nth page and links back.
func TestBarePageNumber(t *testing.T) {
	f := newMediaFixture(t)
	code, m := f.json(t, http.MethodGet, "/v2/Services?Page=1&PageSize=2", nil)
	if code != http.StatusBadRequest || !strings.Contains(m["message"].(string), "PageToken") {
		t.Fatalf("bare Page=1 on Services: %d %v", code, m)
	}
	code, m = f.json(t, http.MethodGet, "/v2/OperatorTypes?Page=1&PageSize=2", nil)
	if code != http.StatusOK {
		t.Fatalf("Page=1 on OperatorTypes: %d %v", code, m)
	}
	_, first := f.json(t, http.MethodGet, "/v2/OperatorTypes?PageSize=2", nil)
	next, _ := first["meta"].(map[string]any)["next_page_url"].(string)
	_, viaNext := f.json(t, http.MethodGet, strings.TrimPrefix(next, "http://api.test"), nil)
	if got, want := sidsOf(m, "operator_types"), sidsOf(viaNext, "operator_types"); got != want || got == "" {
		t.Fatalf("Page=1 = %s, page 1 via next_page_url = %s", got, want)
	}
	prev, ok := m["meta"].(map[string]any)["previous_page_url"].(string)
	if !ok {
		t.Fatal("Page=1 on OperatorTypes has no previous_page_url")
	}
	_, back := f.json(t, http.MethodGet, strings.TrimPrefix(prev, "http://api.test"), nil)
	if got, want := sidsOf(back, "operator_types"), sidsOf(first, "operator_types"); got != want {
		t.Fatalf("previous of Page=1 = %s, want page 0 %s", got, want)
	}
}

func sidsOf(m map[string]any, key string) string {
	var out []string
	for _, v := range m[key].([]any) {
		out = append(out, v.(map[string]any)["sid"].(string))
	}
	return strings.Join(out, ",")
}

// AfterDateCreated and BeforeDateCreated compare at the second date_created
// is shown to: a transcript's own date_created is neither after nor before it.
func TestDateCreatedFiltersAtShownPrecision(t *testing.T) {
	f := newMediaFixture(t)
	tr := f.transcript(t, "", nil)
	code, m := f.json(t, http.MethodGet, "/v2/Transcripts/"+tr.SID, nil)
	if code != http.StatusOK {
		t.Fatalf("fetch: %d %v", code, m)
	}
	shown := m["date_created"].(string)
	at, err := time.Parse(time.RFC3339, shown)
	if err != nil {
		t.Fatalf("date_created %q: %v", shown, err)
	}
	for _, c := range []struct {
		param string
		at    time.Time
		want  int
	}{
		{"AfterDateCreated", at, 0},
		{"BeforeDateCreated", at, 0},
		{"AfterDateCreated", at.Add(-time.Second), 1},
		{"BeforeDateCreated", at.Add(time.Second), 1},
	} {
		q := url.Values{c.param: {c.at.Format(time.RFC3339)}}
		code, m := f.json(t, http.MethodGet, "/v2/Transcripts?"+q.Encode(), nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %v", q.Encode(), code, m)
		}
		if got := len(m["transcripts"].([]any)); got != c.want {
			t.Errorf("%s (date_created %s): %d transcripts, want %d", q.Encode(), shown, got, c.want)
		}
	}
}

// A known path asked with a method it does not answer is a 405 with Allow
// and Twilio's error body; an unknown path stays a 404.
func TestMethodNotAllowed(t *testing.T) {
	f := newMediaFixture(t)
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPut, "/v2/Services", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodDelete, "/v2/Transcripts", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPost, "/v2/Transcripts/" + convoseal.NewSID(convoseal.PrefixTranscript), http.StatusMethodNotAllowed, "GET, DELETE"},
		{http.MethodPatch, "/v1/Credentials/PublicKeys/CRx", http.StatusMethodNotAllowed, "GET, POST, DELETE"},
		{http.MethodPut, "/v2/Nothing", http.StatusNotFound, ""},
		{http.MethodGet, "/v2/Nothing", http.StatusNotFound, ""},
	} {
		code, h, body := f.do(t, c.method, c.path, nil)
		if code != c.status || h.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q (%s)", c.method, c.path, code, h.Get("Allow"), c.status, c.allow, body)
			continue
		}
		_, m := f.json(t, c.method, c.path, nil)
		if m["status"] != float64(c.status) || m["code"] == nil || m["message"] == nil || m["more_info"] == nil {
			t.Errorf("%s %s: body %v is not Twilio's error shape", c.method, c.path, m)
		}
	}
}
