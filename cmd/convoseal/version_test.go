package main

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: "convoseal version" and "convoseal --version" print the
// module version, the VCS commit (with whether the tree was modified) and
// the Go version the binary was built with, and which RSA decryption backend
// it uses (libcrypto here, crypto/rsa with CONVOSEAL_CRYPTO=go).
func TestVersion(t *testing.T) {
	// The commit the build stamped (none with -buildvcs=false, as GOFLAGS
	// may say), read independently with go version -m.
	commit := ""
	if out, err := exec.Command("go", "version", "-m", binary).Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision=") {
				commit = strings.TrimPrefix(f[1], "vcs.revision=")
			}
		}
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runCLI(t, nil, args...)
		r.must(t, 0)
		for _, want := range []string{"convoseal ", "commit: ", "go: " + runtime.Version(), "modified: "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("convoseal %s lacks %q:\n%s", args[0], want, r.stdout)
			}
		}
		if commit != "" && !strings.Contains(r.stdout, commit) {
			t.Errorf("convoseal %s does not name commit %s:\n%s", args[0], commit, r.stdout)
		}
	}
	for crypto, want := range map[string]string{"": "rsa-decrypt: libcrypto: OpenSSL 3.", "go": "rsa-decrypt: go: CONVOSEAL_CRYPTO=go"} {
		r := runCLI(t, []string{"CONVOSEAL_CRYPTO=" + crypto, "CONVOSEAL_LIBCRYPTO="}, "version")
		r.must(t, 0)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("convoseal version with CONVOSEAL_CRYPTO=%q lacks %q:\n%s", crypto, want, r.stdout)
		}
	}
}
