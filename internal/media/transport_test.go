package media

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestTransport(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.example.com:3128")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	get := func(tr *http.Transport, url string) error {
		t.Helper()
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}

	f := &Fetcher{}
	tr := f.Transport()
	f.AllowPrivate = true // the transport holds a copy; this must not weaken it
	if tr.Proxy != nil {
		t.Error("Transport.Proxy must be nil")
	}
	for _, u := range []string{srv.URL + "/", "http://localhost:" + srv.port() + "/"} {
		if err := get(tr, u); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("GET %s: err = %v, want ErrForbiddenAddress", u, err)
		}
	}
	if err := get(NewSafeTransport(false), srv.URL+"/"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("NewSafeTransport(false): err = %v, want ErrForbiddenAddress", err)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("loopback server received %d requests", n)
	}

	if err := get(NewSafeTransport(true), srv.URL+"/"); err != nil {
		t.Errorf("NewSafeTransport(true): %v", err)
	}
	if err := get((&Fetcher{isAllowed: onlyLoopback4}).Transport(), srv.URL+"/"); err != nil {
		t.Errorf("Transport with loopback treated as public: %v", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("server received %d requests, want 2", n)
	}
}
