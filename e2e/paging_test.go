package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// pageArgs is the PageToken and Page of a page URL from meta, as an SDK
// passes them back to its Page call.
func pageArgs(t *testing.T, u *string) (token, page string) {
	t.Helper()
	if u == nil {
		t.Fatal("no page URL")
	}
	parsed, err := url.Parse(*u)
	if err != nil {
		t.Fatalf("page URL %q: %v", *u, err)
	}
	return parsed.Query().Get("PageToken"), parsed.Query().Get("Page")
}

func serviceSIDs(r *intelligence.ListServiceResponse) string {
	var out []string
	for _, s := range r.Services {
		out = append(out, *s.Sid)
	}
	return strings.Join(out, ",")
}

// twilio-go pages forward with next_page_url and back with
// previous_page_url, seeing the same pages; page 0 has no previous page and
// a bare Page=N on a keyset list is refused.
func TestSDKPagingForwardAndBack(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio().IntelligenceV2
	for i := range 5 {
		if _, err := c.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("paging-" + string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	params := (&intelligence.ListServiceParams{}).SetPageSize(2)
	page, err := c.PageService(params, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if page.Meta.PreviousPageUrl != nil {
		t.Fatalf("page 0 previous_page_url = %q", *page.Meta.PreviousPageUrl)
	}
	var pages []string
	for {
		pages = append(pages, serviceSIDs(page))
		if page.Meta.NextPageUrl == nil {
			break
		}
		tok, n := pageArgs(t, page.Meta.NextPageUrl)
		if page, err = c.PageService(params, tok, n); err != nil {
			t.Fatal(err)
		}
	}
	if len(pages) != 3 {
		t.Fatalf("forward pages: %q", pages)
	}
	for i := len(pages) - 1; i > 0; i-- {
		tok, n := pageArgs(t, page.Meta.PreviousPageUrl)
		if page, err = c.PageService(params, tok, n); err != nil {
			t.Fatal(err)
		}
		if got := serviceSIDs(page); got != pages[i-1] || page.Meta.Page != i-1 {
			t.Fatalf("previous of page %d: page %d %s, want %s", i, page.Meta.Page, got, pages[i-1])
		}
	}
	if page.Meta.PreviousPageUrl != nil {
		t.Fatalf("page 0 reached backwards has previous_page_url %q", *page.Meta.PreviousPageUrl)
	}
	if status, body := s.Do(t, http.MethodGet, "/v2/Services", url.Values{"Page": {"1"}, "PageSize": {"2"}}); status != http.StatusBadRequest {
		t.Fatalf("bare Page=1: %d %v", status, body)
	}
}

// AfterDateCreated set to a transcript's own date_created (as shown, to the
// second) excludes it; the second before includes it.
func TestSDKAfterDateCreatedOwnDate(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio().IntelligenceV2
	svc, err := c.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("dates"))
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{"sentences": []map[string]any{{"media_channel": 1, "start_time": 0.0, "end_time": 1.0, "transcript": "hello"}}}
	tr, err := c.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).SetChannel(Channel(DataURL(doc))))
	if err != nil {
		t.Fatal(err)
	}
	own := tr.DateCreated.UTC()
	for _, c2 := range []struct {
		after time.Time
		want  int
	}{{own, 0}, {own.Add(-time.Second), 1}} {
		list, err := c.ListTranscript((&intelligence.ListTranscriptParams{}).SetServiceSid(*svc.Sid).SetAfterDateCreated(c2.after.Format(time.RFC3339)))
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != c2.want {
			t.Errorf("AfterDateCreated=%s (date_created %s): %d transcripts, want %d", c2.after.Format(time.RFC3339), own.Format(time.RFC3339), len(list), c2.want)
		}
	}
}

// An unsupported method on a known path is a Twilio-shaped 405 with Allow.
func TestMethodNotAllowedE2E(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	req, _ := http.NewRequest(http.MethodPut, s.URL+"/v2/Services", nil)
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
		t.Fatalf("PUT /v2/Services: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	status, body := s.Do(t, http.MethodDelete, "/v2/Transcripts", nil)
	if status != http.StatusMethodNotAllowed || body["code"] != float64(convoseal.CodeMethodNotAllowed) || body["status"] != float64(405) {
		t.Fatalf("DELETE /v2/Transcripts: %d %v", status, body)
	}
	if status, _ := s.Do(t, http.MethodPut, "/v2/NoSuchThing", nil); status != http.StatusNotFound {
		t.Fatalf("PUT /v2/NoSuchThing: %d, want 404", status)
	}
}
