package client

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/convoseal/convoseal/internal/operators"
)

// TestOperatorResultMirrorsServer: OperatorResult is the public copy of what
// the server seals (internal/operators.Result); a field added there and
// not here would be dropped silently by customers' programs.
func TestOperatorResultMirrorsServer(t *testing.T) {
	got, want := jsonShape(reflect.TypeFor[OperatorResult](), ""), jsonShape(reflect.TypeFor[operators.Result](), "")
	if !slices.Equal(got, want) {
		t.Fatalf("client.OperatorResult JSON fields\n%v\nwant those of operators.Result\n%v", got, want)
	}
}

// jsonShape lists the JSON paths and kinds of a type's fields, sorted.
func jsonShape(typ reflect.Type, prefix string) []string {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		out = append(out, path+":"+f.Type.Kind().String())
		out = append(out, jsonShape(f.Type, path+".")...)
	}
	slices.Sort(out)
	return out
}
