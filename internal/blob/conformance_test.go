package blob_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/blob/blobtest"
)

// newServedLocal returns a Local store whose Location URLs point at an
// httptest server serving its handler.
func newServedLocal(t *testing.T) blob.Store {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	l, err := blob.NewLocal(t.TempDir(), srv.URL, []byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	mux.Handle(blob.PathPrefix, l.Handler())
	return l
}

func TestLocalConformance(t *testing.T) {
	blobtest.TestStore(t, newServedLocal)
}

func TestValidateKey(t *testing.T) {
	valid := []string{
		"a",
		"AC0123456789abcdef0123456789abcdef/GT0123456789abcdef0123456789abcdef/sentences/unredacted",
		"a/b/c",
		"...",
		"..a",
		".a",
		"a.",
		"-_.",
		strings.Repeat("a", blob.MaxSegmentLen),
		strings.Repeat("a/", blob.MaxKeyLen/2-1) + "ab",
	}
	for _, k := range valid {
		if err := blob.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%.40q): %v", k, err)
		}
		if err := blob.ValidatePrefix(k); err != nil {
			t.Errorf("ValidatePrefix(%.40q): %v", k, err)
		}
	}
	for _, k := range blobtest.InvalidKeys {
		if err := blob.ValidateKey(k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidateKey(%.40q): got %v, want ErrInvalidKey", k, err)
		}
	}

	validPrefixes := []string{"", "a", "a/", "a/b", "a/.", "a/..", "a/b/", "."}
	for _, p := range validPrefixes {
		if err := blob.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q): %v", p, err)
		}
	}
	invalidPrefixes := []string{"/", "/a", "//", "a//", "../", "./", "a/../", "a/./b", "a\\", "\\", "a\x00", "a b",
		strings.Repeat("a", blob.MaxKeyLen+1), strings.Repeat("a", blob.MaxSegmentLen+1)}
	for _, p := range invalidPrefixes {
		if err := blob.ValidatePrefix(p); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%.40q): got %v, want ErrInvalidKey", p, err)
		}
	}
}

func TestValidateMetadata(t *testing.T) {
	good := []map[string]string{
		nil,
		{},
		{"x-amz-key": "AAAA", "x-amz-matdesc": `{"credential_sid":"CR1","fingerprint":"sha256:ab"}`},
		{"a.b_c-1": ""},
		{"k": strings.Repeat("v", blob.MaxMetadataSize-1)},
	}
	for _, m := range good {
		if err := blob.ValidateMetadata(m); err != nil {
			t.Errorf("ValidateMetadata(%.60q): %v", m, err)
		}
	}
	bad := []map[string]string{
		{"": "v"},
		{"K": "v"},
		{"x-amz-meta-é": "v"},
		{"a/b": "v"},
		{"k": "v\r\nSet-Cookie: x"},
		{"k": "tab\tinside"},
		{"k": "\x7f"},
		{"k": "v "},
		{"k": strings.Repeat("v", blob.MaxMetadataSize)},
	}
	for _, m := range bad {
		if err := blob.ValidateMetadata(m); !errors.Is(err, blob.ErrInvalidMetadata) {
			t.Errorf("ValidateMetadata(%.60q): got %v, want ErrInvalidMetadata", m, err)
		}
	}
}
