package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestConsoleMounted checks that the console handler answers /console and
// /console/… without authentication on an API process, and that a worker
// (OpsOnly) does not serve it.
func TestConsoleMounted(t *testing.T) {
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	for _, ops := range []bool{false, true} {
		s := testServer(t)
		s.Console, s.OpsOnly = console, ops
		h := s.Handler()
		for _, path := range []string{"/console", "/console/", "/console/assets/app.js"} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
			want := 299
			if ops {
				want = http.StatusNotFound
			}
			if w.Code != want {
				t.Errorf("OpsOnly=%v GET %s: %d, want %d", ops, path, w.Code, want)
			}
		}
	}
	w := httptest.NewRecorder()
	testServer(t).Handler().ServeHTTP(w, httptest.NewRequest("GET", "/console", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("no Console: GET /console answered %d, want 404", w.Code)
	}
}
