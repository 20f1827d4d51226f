package operators

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGenerativeSchemaRefusesExternalRefs: a json_result_schema may not make
// the server read a file or a URL. Every external $ref is refused at once,
// with one message whether or not the target exists.
func TestGenerativeSchemaRefusesExternalRefs(t *testing.T) {
	typ, ok := OperatorType("generative")
	if !ok {
		t.Fatal("no generative operator type")
	}
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists.json")
	if err := os.WriteFile(exists, []byte(`{"type":"string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	refs := []string{
		"file://" + exists,
		"file://" + filepath.Join(dir, "missing.json"),
		"file:///etc/passwd",
		"file:///proc/self/fd/0", // blocks forever if opened
		"exists.json",
		"../../../../etc/passwd",
		"http://127.0.0.1:9/schema.json",
	}
	var msgs []string
	for _, ref := range refs {
		for _, schema := range []map[string]any{
			{"$ref": ref},
			{"type": "object", "properties": map[string]any{"a": map[string]any{"$ref": ref}}},
			{"$schema": ref, "type": "object"},
		} {
			done := make(chan error, 1)
			go func() {
				done <- ValidateConfig(typ, map[string]any{"prompt": "p", "json_result_schema": schema})
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("$ref %q: validation hangs", ref)
			}
			if err == nil {
				t.Errorf("schema %v accepted", schema)
				continue
			}
			if strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), "passwd") || strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("message names the reference: %q", err)
			}
			msgs = append(msgs, err.Error())
		}
	}
	for _, m := range msgs {
		if m != msgs[0] {
			t.Errorf("messages differ (an existence oracle): %q vs %q", m, msgs[0])
		}
	}
	// A self-contained schema, internal references included, is still fine.
	ok2 := map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": map[string]any{"s": map[string]any{"type": "string"}}, "$ref": "#/$defs/s"}
	if err := ValidateConfig(typ, map[string]any{"prompt": "p", "json_result_schema": ok2}); err != nil {
		t.Errorf("internal $ref refused: %v", err)
	}
}
