package main

import (
	"strings"
	"testing"

	"github.com/convoseal/convoseal/internal/blob"
	s3blob "github.com/convoseal/convoseal/internal/blob/s3"
)

// TestConsoleConnectSrc checks the console's CSP: locations of the embedded
// store are on the API's origin (connect-src 'self' only); an S3 store's
// origin is added, path-style or virtual-hosted.
func TestConsoleConnectSrc(t *testing.T) {
	local, err := blob.NewLocal(t.TempDir(), "http://localhost:8080", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	h, err := newConsole(t.Context(), local, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.CSP(), "connect-src 'self';") {
		t.Errorf("local store: CSP %q", h.CSP())
	}
	for _, c := range []struct {
		cfg  s3blob.Config
		want string
	}{
		{s3blob.Config{Bucket: "bkt", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", AccessKey: "a", SecretKey: "s", PathStyle: true}, "connect-src 'self' http://127.0.0.1:7070;"},
		{s3blob.Config{Bucket: "bkt", Region: "eu-west-3", AccessKey: "a", SecretKey: "s"}, "connect-src 'self' https://bkt.s3.eu-west-3.amazonaws.com;"},
	} {
		st, err := s3blob.New(t.Context(), c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		h, err := newConsole(t.Context(), st, "http://localhost:8080")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(h.CSP(), c.want) {
			t.Errorf("%+v: CSP %q lacks %q", c.cfg.Bucket, h.CSP(), c.want)
		}
	}
}
