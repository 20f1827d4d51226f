package pipeline

import (
	"io"
	"log/slog"
	"testing"

	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// newTestBlobs returns a local blob store in a temporary directory, closed
// when the test ends.
func newTestBlobs(t *testing.T) *blob.Local {
	t.Helper()
	local, err := blob.NewLocal(t.TempDir(), "http://localhost", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	return local
}

// discardLog is a logger that writes nowhere.
func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestPipeline returns a pipeline on db with a new server key-encryption
// key, a local blob store (newTestBlobs) and a logger that writes nowhere,
// with the blob store and the key.
func newTestPipeline(t *testing.T, db *store.DB) (*Pipeline, *blob.Local, *seal.KEK) {
	t.Helper()
	kek, err := seal.NewKEK(seal.GenerateKEK())
	if err != nil {
		t.Fatal(err)
	}
	local := newTestBlobs(t)
	return &Pipeline{DB: db, Blobs: local, Keys: keyring.New(kek, nil, db), Log: discardLog()}, local, kek
}
