package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convoseal/convoseal/internal/interop"
)

// TestSDKQuickStarts runs the quick starts in examples/ — the official Go
// and Node SDKs pointed at convoseal — and decrypts what they print with the
// customer's key.
func TestSDKQuickStarts(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	kf := interop.GenerateKeys(t, 2048)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"CONVOSEAL_URL="+s.URL,
		"TWILIO_ACCOUNT_SID="+s.AccountSID,
		"TWILIO_AUTH_TOKEN="+s.AuthToken,
		"CONVOSEAL_PUBLIC_KEY="+kf.Public,
	)

	t.Run("go", func(t *testing.T) {
		cmd := exec.Command("go", "run", "./examples/go-quickstart")
		cmd.Dir, cmd.Env = root, env
		checkQuickStart(t, s, kf, cmd, "Hello from the Go quick start.")
	})

	t.Run("node", func(t *testing.T) {
		node, err := exec.LookPath("node")
		if err != nil {
			if os.Getenv("CONVOSEAL_REQUIRE_NODE") == "1" {
				t.Fatal("node is not installed and CONVOSEAL_REQUIRE_NODE=1")
			}
			t.Skip("node is not installed (set CONVOSEAL_REQUIRE_NODE=1 to fail instead)")
		}
		dir := filepath.Join(root, "examples", "node-quickstart")
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "twilio")); err != nil {
			npm := exec.Command("npm", "ci", "--no-audit", "--no-fund")
			npm.Dir = dir
			if out, err := npm.CombinedOutput(); err != nil {
				t.Fatalf("npm ci: %v\n%s", err, out)
			}
		}
		cmd := exec.Command(node, "index.js")
		cmd.Dir, cmd.Env = dir, env
		checkQuickStart(t, s, kf, cmd, "Hello from the Node quick start.")
	})
}

// checkQuickStart runs a quick start, takes the location on its last line
// and checks that the customer's key opens it to the expected first sentence.
func checkQuickStart(t *testing.T, s *Server, kf interop.KeyFiles, cmd *exec.Cmd, want string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	location := lines[len(lines)-1]
	if !strings.HasPrefix(location, s.LocationBase()) {
		t.Fatalf("last line %q is not a location under %s", location, s.LocationBase())
	}
	plain, err := exec.Command(binary, "decrypt", "--raw", "--private-key", kf.Private, location).Output()
	if err != nil {
		t.Fatalf("convoseal decrypt: %v", err)
	}
	var got sealedSentences
	if err := json.Unmarshal(plain, &got); err != nil {
		t.Fatalf("decrypted sentences are not JSON: %v", err)
	}
	if len(got.Sentences) != 2 || got.Sentences[0].Transcript != want {
		t.Fatalf("decrypted %d sentences, first %q; want 2, first %q", len(got.Sentences), firstTranscript(got), want)
	}
}

func firstTranscript(s sealedSentences) string {
	if len(s.Sentences) == 0 {
		return ""
	}
	return s.Sentences[0].Transcript
}
