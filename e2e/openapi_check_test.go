package e2e

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// TestSchemaCheck: the conformance checker reports each kind of mismatch,
// with its path, and all of them, not only the first.
func TestSchemaCheck(t *testing.T) {
	doc := &openAPI{}
	doc.Components.Schemas = map[string]map[string]any{
		"status": {"type": "string", "enum": []any{"queued", "completed"}},
	}
	schema := map[string]any{"type": "object", "properties": map[string]any{
		"sid":    map[string]any{"type": "string"},
		"name":   map[string]any{"type": "string", "nullable": true},
		"count":  map[string]any{"type": "integer"},
		"status": map[string]any{"$ref": "#/components/schemas/status"},
		"url":    map[string]any{"type": "string", "format": "uri"},
		"when":   map[string]any{"type": "string", "format": "date-time"},
		"words":  map[string]any{"type": "array", "nullable": true, "items": map[string]any{"type": "number"}},
		"absent": map[string]any{"type": "string", "nullable": true},
	}}
	dec := json.NewDecoder(bytes.NewReader([]byte(`{"sid":null,"name":null,"count":1.5,"status":"done",
		"url":"/v2/x","when":"2026-01-01 00:00","words":[1,"2"]}`)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	c := &schemaCheck{doc: doc}
	c.check(schema, v, "")
	want := []string{
		`.absent: missing (the spec has the key, nullable)`,
		`.count: 1.5 is not an integer`,
		`.sid: null not allowed (type string)`,
		`.status: "done" not in enum [queued completed]`,
		`.url: "/v2/x" is not an absolute uri`,
		`.when: "2026-01-01 00:00" is not an RFC 3339 date-time`,
		`.words[1]: "2" is string, want number`,
	}
	if !slices.Equal(c.errs, want) {
		t.Errorf("mismatches:\n%q\nwant\n%q", c.errs, want)
	}
	if c.props != 8 {
		t.Errorf("%d properties checked, want 8", c.props)
	}
}
