package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// openAPI is one vendored OpenAPI 3.0 document, enough of it to check
// responses: its paths and its component schemas (a $ref resolves only
// within the document).
type openAPI struct {
	Name       string
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

func loadOpenAPI(file string) (*openAPI, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	var doc openAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse spec %s: %w", file, err)
	}
	doc.Name = file
	return &doc, nil
}

// specOperation is the part of an operation object the checker reads.
type specOperation struct {
	Responses map[string]struct {
		Headers map[string]any `json:"headers"`
		Content map[string]struct {
			Schema map[string]any `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

// specOp is one operation of a spec: its method, path template, documented
// success status and response schema (nil for a body-less answer).
type specOp struct {
	Doc     *openAPI
	Method  string // GET, POST, DELETE
	Path    string // as in the spec, e.g. /v2/Services/{Sid}
	Status  int
	Schema  map[string]any
	Headers []string // response headers the spec declares
}

func (o specOp) String() string { return o.Method + " " + o.Path }

// operations lists every operation of the document, sorted.
func (d *openAPI) operations() []specOp {
	var ops []specOp
	for path, methods := range d.Paths {
		for m, raw := range methods {
			if !slices.Contains([]string{"get", "post", "put", "patch", "delete"}, m) {
				continue
			}
			var op specOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				continue
			}
			for code, r := range op.Responses {
				o := specOp{Doc: d, Method: strings.ToUpper(m), Path: path}
				fmt.Sscan(code, &o.Status)
				if c, ok := r.Content["application/json"]; ok {
					o.Schema = c.Schema
				}
				for h := range r.Headers {
					o.Headers = append(o.Headers, h)
				}
				sort.Strings(o.Headers)
				ops = append(ops, o)
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	return ops
}

// resolve follows a local $ref; the referring schema's own keys (nullable,
// description) are kept over the target's, as Twilio's specs use them.
func (d *openAPI) resolve(s map[string]any) map[string]any {
	for range 10 {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		target := d.Components.Schemas[name]
		if !ok || target == nil {
			return map[string]any{"x-unresolved": ref}
		}
		merged := map[string]any{}
		for k, v := range target {
			merged[k] = v
		}
		for k, v := range s {
			if k != "$ref" {
				merged[k] = v
			}
		}
		s = merged
	}
	return s
}

// schemaCheck collects every mismatch of a value with a schema.
type schemaCheck struct {
	doc   *openAPI
	errs  []string
	props int // object properties checked
}

func (c *schemaCheck) fail(path, format string, args ...any) {
	if path == "" {
		path = "."
	}
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

// check compares v (decoded with UseNumber) with schema s at path.
// Every property of an object schema must be present as a key; a nullable
// one may be null. Types, enums and the uri and date-time formats are checked.
func (c *schemaCheck) check(s map[string]any, v any, path string) {
	s = c.doc.resolve(s)
	if ref, ok := s["x-unresolved"]; ok {
		c.fail(path, "schema $ref %v does not resolve", ref)
		return
	}
	if v == nil {
		if s["nullable"] != true {
			c.fail(path, "null not allowed (type %v)", s["type"])
		}
		return
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "string":
		str, ok := v.(string)
		if !ok {
			c.fail(path, "%s is %s, want string", short(v), jsonType(v))
			return
		}
		c.format(s, str, path)
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			c.fail(path, "%s is %s, want %s", short(v), jsonType(v), typ)
			return
		}
		f, err := n.Float64()
		if err != nil || (typ == "integer" && f != math.Trunc(f)) {
			c.fail(path, "%s is not an %s", n, typ)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			c.fail(path, "%s is %s, want boolean", short(v), jsonType(v))
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			c.fail(path, "%s is %s, want array", short(v), jsonType(v))
			return
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range a {
				c.check(items, e, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case "object", "":
		obj, ok := v.(map[string]any)
		if !ok {
			if typ == "object" {
				c.fail(path, "%s is %s, want object", short(v), jsonType(v))
			}
			return
		}
		props, _ := s["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			c.props++
			ps, _ := props[k].(map[string]any)
			val, present := obj[k]
			if !present {
				c.fail(path+"."+k, "missing (the spec has the key%s)", map[bool]string{true: ", nullable", false: ""}[c.doc.resolve(ps)["nullable"] == true])
				continue
			}
			c.check(ps, val, path+"."+k)
		}
		if s["format"] == "uri-map" {
			for k, u := range obj {
				if str, ok := u.(string); !ok || !isURI(str) {
					c.fail(path+"."+k, "%s is not a uri", short(u))
				}
			}
		}
	default:
		c.fail(path, "schema type %q not understood by the checker", typ)
	}
	if str, isStr := v.(string); isStr {
		if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, any(str)) {
			c.fail(path, "%q not in enum %v", str, enum)
		}
	}
}

func (c *schemaCheck) format(s map[string]any, str, path string) {
	switch s["format"] {
	case "uri":
		if !isURI(str) {
			c.fail(path, "%q is not an absolute uri", str)
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339, str); err != nil {
			c.fail(path, "%q is not an RFC 3339 date-time", str)
		}
	}
}

func isURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// short renders a value for a message, cut to keep messages one line.
func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		return string(b[:57]) + "…"
	}
	return string(b)
}
