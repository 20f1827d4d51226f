package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/convoseal/convoseal/internal/blob"
)

// localBlobs opens the embedded installation's blob directory as the server
// does (its own format), for tests that tamper with stored objects.
func (s *Server) localBlobs(t *testing.T) *blob.Local {
	t.Helper()
	l, err := blob.NewLocal(filepath.Join(s.Data, "blobs"), "http://localhost", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// GetBlob returns an object's body and metadata (without the x-amz-meta-
// prefix) as the server would read them; ok is false if there is none.
func (s *Server) GetBlob(t *testing.T, key string) (body []byte, meta map[string]string, ok bool) {
	t.Helper()
	if s.cluster == nil {
		body, meta, err := s.localBlobs(t).Get(context.Background(), key)
		if errors.Is(err, blob.ErrNotFound) {
			return nil, nil, false
		}
		if err != nil {
			t.Fatalf("reading %s: %v", key, err)
		}
		return body, meta, true
	}
	out, err := s.cluster.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.cluster.bucket), Key: aws.String(s.cluster.prefix + key)})
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, nil, false
	}
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	if body, err = io.ReadAll(out.Body); err != nil {
		t.Fatal(err)
	}
	return body, out.Metadata, true
}

// WriteBlob stores (or replaces) an object behind the server's back: a local
// blob file, or an S3 object with the metadata as user metadata.
func (s *Server) WriteBlob(t *testing.T, key string, body []byte, meta map[string]string) {
	t.Helper()
	if s.cluster == nil {
		if err := s.localBlobs(t).Put(context.Background(), key, body, meta); err != nil {
			t.Fatalf("writing %s: %v", key, err)
		}
		return
	}
	_, err := s.cluster.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.cluster.bucket),
		Key: aws.String(s.cluster.prefix + key), Body: bytes.NewReader(body), Metadata: meta})
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// CopyBlob copies the object at from, body and metadata, over the object at
// to, as someone with write access to the blob store could.
func (s *Server) CopyBlob(t *testing.T, from, to string) {
	t.Helper()
	body, meta, ok := s.GetBlob(t, from)
	if !ok {
		t.Fatalf("CopyBlob: no object %s among %v", from, s.Blobs(t))
	}
	s.WriteBlob(t, to, body, meta)
}
