package blob

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "url-signing.key")
	key, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != SigningKeySize || bytes.Equal(key, make([]byte, SigningKeySize)) {
		t.Fatalf("created key %x", key)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode())
	}
	again, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, key) {
		t.Error("the second call returned a different key")
	}
	other, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, key) {
		t.Error("two new keys are equal")
	}
}

func TestLoadOrCreateKeyRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // regardless of umask
			t.Fatal(err)
		}
		return p
	}
	key := bytes.Repeat([]byte{1}, SigningKeySize)
	tests := []struct {
		name, path, want string
	}{
		{"world readable", write("0644", key, 0o644), "chmod 600"},
		{"group readable", write("0640", key, 0o640), "has mode 0640"},
		{"world writable", write("0602", key, 0o602), "has mode 0602"},
		{"short", write("short", key[:31], 0o600), "is not 32 bytes"},
		{"long", write("long", append(key, 0), 0o600), "is not 32 bytes"},
		{"empty", write("empty", nil, 0o600), "is not 32 bytes"},
		{"directory", dir, "not a regular file"},
	}
	for _, tt := range tests {
		got, err := LoadOrCreateKey(tt.path)
		if err == nil {
			t.Errorf("%s: accepted, key %x", tt.name, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
			t.Errorf("%s: error %q does not name the file and say %q", tt.name, err, tt.want)
		}
	}
	if _, err := LoadOrCreateKey(filepath.Join(dir, "missing", "k")); err == nil {
		t.Error("LoadOrCreateKey in a missing directory succeeded")
	}
	// The 0600 file is accepted.
	if got, err := LoadOrCreateKey(write("ok", key, 0o600)); err != nil || !bytes.Equal(got, key) {
		t.Errorf("0600 key file: %x, %v", got, err)
	}
}
