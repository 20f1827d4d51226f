package e2e

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSchemaRefsRefused: a generative operator's json_result_schema cannot
// make the server read its files or the network. Creating and updating with
// an external $ref fail promptly with 400, one message whether or not the
// target exists.
func TestSchemaRefsRefused(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	// A file the server can read, and one that does not exist.
	exists := filepath.Join(t.TempDir(), "exists.json")
	if err := os.WriteFile(exists, []byte(`{"type":"string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	refs := []string{"file://" + exists, "file://" + exists + ".missing", "file:///etc/passwd", "file:///proc/self/fd/0",
		"convoseal.db", "../../etc/passwd", "http://127.0.0.1:9/schema.json"}
	config := func(ref string) string {
		return `{"prompt":"p","json_result_schema":{"type":"object","properties":{"a":{"$ref":` + isoJSON(ref) + `}}}}`
	}
	code, created := s.Do(t, "POST", "/v2/Operators/Custom", url.Values{"FriendlyName": {"g"}, "OperatorType": {"generative"},
		"Config": {`{"prompt":"p","json_result_schema":{"type":"object"}}`}})
	if code/100 != 2 {
		t.Fatalf("create a generative operator: %d %v", code, created)
	}
	op, _ := created["sid"].(string)
	var first string
	for _, ref := range refs {
		for _, path := range []string{"/v2/Operators/Custom", "/v2/Operators/Custom/" + op} {
			form := url.Values{"FriendlyName": {"g2"}, "OperatorType": {"generative"}, "Config": {config(ref)}}
			start := time.Now()
			code, body := s.Do(t, "POST", path, form)
			took := time.Since(start)
			msg, _ := body["message"].(string)
			if code != 400 || took > 5*time.Second {
				t.Errorf("POST %s with $ref %q: %d after %s (%q), want 400 at once", path, ref, code, took, msg)
				continue
			}
			if first == "" {
				first = msg
			}
			if msg != first {
				t.Errorf("$ref %q: message %q differs from %q (tells files apart)", ref, msg, first)
			}
			if strings.Contains(msg, "passwd") || strings.Contains(msg, exists) || strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "/proc") {
				t.Errorf("$ref %q: message %q names the reference", ref, msg)
			}
		}
	}
	t.Logf("message: %s", first)
}
