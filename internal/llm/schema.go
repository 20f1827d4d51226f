package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaURL is where a schema is registered in its compiler; it only
// appears in schema locations.
const schemaURL = "mem:///result.schema.json"

// hasSchema reports whether schema asks for JSON output: nil, empty and JSON
// null mean plain text.
func hasSchema(schema json.RawMessage) bool {
	return len(bytes.TrimSpace(schema)) > 0 && string(bytes.TrimSpace(schema)) != "null"
}

// compile returns the compact schema text and the compiled schema, cached.
func (c *Client) compile(schema json.RawMessage) ([]byte, *jsonschema.Schema, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, schema); err != nil {
		return nil, nil, fmt.Errorf("%w: not JSON", ErrInvalidSchema)
	}
	compact := buf.Bytes()
	key := string(compact)

	c.schemaMu.Lock()
	sch, ok := c.schemas[key]
	c.schemaMu.Unlock()
	if ok {
		return compact, sch, nil
	}

	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(compact))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not JSON", ErrInvalidSchema)
	}
	comp := NewSchemaCompiler()
	if err := comp.AddResource(schemaURL, doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidSchema, err)
	}
	sch, err = comp.Compile(schemaURL)
	if err != nil {
		// The compiler's message quotes the schema (operator configuration),
		// never the prompt or an answer.
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidSchema, err)
	}

	c.schemaMu.Lock()
	if len(c.schemas) >= maxCachedSchemas {
		clear(c.schemas)
	}
	c.schemas[key] = sch
	c.schemaMu.Unlock()
	return compact, sch, nil
}

// NewSchemaCompiler returns a JSON-Schema compiler for customer-supplied
// schemas: it refuses every external reference ($ref or $schema naming a
// file, a relative path or a URL), so compiling reads nothing from the
// server's disk or network and never blocks on it. Resources must be added
// with AddResource, under a URL such as SchemaURL.
func NewSchemaCompiler() *jsonschema.Compiler {
	comp := jsonschema.NewCompiler()
	comp.UseLoader(noLoader{})
	return comp
}

// SchemaURL is the in-memory URL customer schemas are registered under (it
// only appears in schema locations; relative references resolve against it,
// never against the working directory).
const SchemaURL = schemaURL

// noLoader refuses to load any external schema.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, errors.New("external schema references are not allowed")
}
