package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/convoseal/convoseal/client"
	"github.com/convoseal/convoseal/seal"
	"github.com/spf13/cobra"
)

// maxLocalFile bounds a local ciphertext read by decrypt.
const maxLocalFile = client.DefaultMaxSize

func newDecryptCommand() *cobra.Command {
	var (
		keys    keyFlags
		ivB64   string
		keyB64  string
		outPath string
		raw     bool
		force   bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "decrypt --private-key KEY.pem (URL... | --iv B64 --encrypted-key B64 FILE)",
		Short: "Decrypt transcripts and operator results sealed with your public key",
		Long: `decrypt opens artifacts sealed for your public key: it unwraps the content key
with RSA-OAEP-SHA256 and your private key, then decrypts the AES-256-GCM body.

Give either one or more locations (the URLs in "location" or "locations" of the
Sentences/Encrypted and OperatorResults/Encrypted resources), which are
downloaded with the IV and encrypted key taken from the x-amz-meta-x-amz-iv and
x-amz-meta-x-amz-key response headers; or a downloaded FILE with those two
header values given as --iv and --encrypted-key.

The private key may be PKCS #1 (openssl genrsa), PKCS #8 (openssl pkcs8 -topk8
-nocrypt) or passphrase-protected PKCS #8; the passphrase is read from the
environment variable named by --passphrase-env, or asked for on the terminal.
Give --private-key several times (or a file holding several keys) when the
Service's key was rotated: each artifact is opened with the key whose
fingerprint its metadata names, else with each key in turn. The key's PEM text
may instead be in $CONVOSEAL_PRIVATE_KEY (see --private-key-env). Keys are
never written anywhere.

Output goes to standard output, or with -o to a new file (mode 0600). With several
inputs, or when -o ends in "/" or names a directory, -o is a directory (created
with mode 0700 if missing) holding one file per input, named after the location:
GT…-sentences-redacted.json, GT…-operator-LY…-unredacted.json, and so on. JSON is
pretty-printed unless --raw is given. Every input is attempted; the exit code is
that of the first failure.

` + exitCodesHelp,
		Example: `  convoseal decrypt --private-key private_key.pem "$LOCATION"
  convoseal decrypt --private-key private_key.pem -o results/ "$URL1" "$URL2"
  convoseal decrypt --private-key private_key.pem --iv "$IV" --encrypted-key "$KEY" sentences.bin`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var local []string
			for _, a := range args {
				if !isURL(a) {
					local = append(local, a)
				}
			}
			manual := ivB64 != "" || keyB64 != ""
			switch {
			case manual && (ivB64 == "" || keyB64 == ""):
				return usageErrorf("--iv and --encrypted-key go together")
			case manual && (len(args) != 1 || len(local) != 1):
				return usageErrorf("--iv and --encrypted-key describe exactly one FILE; give URLs on their own")
			case !manual && len(local) > 0:
				return usageErrorf("%s: a local file needs --iv and --encrypted-key (the x-amz-meta-x-amz-iv and x-amz-meta-x-amz-key headers of its download)", local[0])
			}
			if !keys.given() {
				return usageErrorf("--private-key is required (or the key's PEM text in $%s)", keys.env)
			}
			outDir, err := outputDir(outPath, len(args))
			if err != nil {
				return err
			}
			names := map[string]bool{}

			id, err := keys.load()
			if err != nil {
				return err
			}
			d := &client.Downloader{HTTP: &http.Client{Timeout: timeout}}
			opts := outputOptions{raw: raw, force: force}
			var first error
			for _, in := range args {
				var err error
				var pt []byte
				if manual {
					pt, err = openLocal(id, in, ivB64, keyB64)
				} else {
					pt, err = openURL(cmd.Context(), d, id, in)
				}
				if err == nil {
					dest := outPath
					if outDir != "" {
						dest = filepath.Join(outDir, uniqueName(names, outputName(in)))
					}
					err = writeOutput(cmd.OutOrStdout(), dest, pt, opts)
					clear(pt)
				}
				if err != nil {
					if len(args) > 1 {
						fmt.Fprintf(cmd.ErrOrStderr(), "convoseal: %s: %v\n", displayName(in), err)
					}
					if first == nil {
						first = err
					}
				}
			}
			if first != nil && len(args) > 1 {
				first = withCode(exitCodeOf(first), errors.New("some inputs could not be decrypted"))
			}
			return first
		},
	}
	f := cmd.Flags()
	keys.register(f)
	f.StringVar(&ivB64, "iv", "", "base64 IV: the x-amz-meta-x-amz-iv header (with FILE)")
	f.StringVar(&keyB64, "encrypted-key", "", "base64 wrapped key: the x-amz-meta-x-amz-key header (with FILE)")
	f.StringVarP(&outPath, "output", "o", "", "write to this new file instead of standard output; a directory (made if missing) with several inputs, or when it ends in / or is one")
	f.BoolVar(&raw, "raw", false, "write the plaintext exactly as decrypted (no JSON pretty-printing)")
	f.BoolVar(&force, "force", false, "overwrite existing output files")
	f.DurationVar(&timeout, "timeout", 60*time.Second, "limit for each download")
	return cmd
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

func openLocal(id *client.Keyring, file, ivB64, keyB64 string) ([]byte, error) {
	iv, err := seal.DecodeBase64("--iv", ivB64)
	if err != nil {
		return nil, withCode(exitEnvelope, err)
	}
	wrapped, err := seal.DecodeBase64("--encrypted-key", keyB64)
	if err != nil {
		return nil, withCode(exitEnvelope, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxLocalFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if len(body) > maxLocalFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, maxLocalFile)
	}
	pt, err := id.Open(body, seal.Envelope{WrappedKey: wrapped, IV: iv})
	return pt, classifyOpenError(err)
}

func openURL(ctx context.Context, d *client.Downloader, id *client.Keyring, u string) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	a, err := d.Fetch(ctx, u)
	if err != nil {
		if errors.Is(err, seal.ErrMalformedEnvelope) {
			return nil, withCode(exitEnvelope, err)
		}
		return nil, withCode(exitDownload, err)
	}
	pt, err := id.Open(a.Body, a.Envelope)
	return pt, classifyOpenError(err)
}

func classifyOpenError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, seal.ErrIncorrectIdentity):
		return withCode(exitWrongKey, err)
	case errors.Is(err, seal.ErrAuthentication):
		return withCode(exitIntegrity, err)
	case errors.Is(err, seal.ErrMalformedEnvelope):
		return withCode(exitEnvelope, err)
	}
	return err
}

func exitCodeOf(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

type outputOptions struct {
	raw, force bool
}

// writeOutput writes plaintext to dest (a new 0600 file) or, when dest is
// empty, to w. JSON is indented unless raw.
func writeOutput(w io.Writer, dest string, pt []byte, o outputOptions) error {
	out := pt
	if !o.raw && json.Valid(pt) {
		var buf bytes.Buffer
		if err := json.Indent(&buf, pt, "", "  "); err == nil {
			buf.WriteByte('\n')
			out = buf.Bytes()
			defer clear(buf.Bytes())
		}
	}
	if dest == "" {
		_, err := w.Write(out)
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(dest, flags, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; use --force to overwrite it", dest)
		}
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	return f.Close()
}

// outputDir is the directory -o names, or "" when -o is a file (or absent):
// a directory with several inputs, a path ending in "/", or an existing
// directory. A missing directory is created (0700).
func outputDir(outPath string, inputs int) (string, error) {
	if outPath == "" {
		return "", nil
	}
	st, err := os.Stat(outPath)
	isDir := err == nil && st.IsDir()
	if !isDir && inputs == 1 && !strings.HasSuffix(outPath, "/") && !strings.HasSuffix(outPath, string(filepath.Separator)) {
		return "", nil
	}
	if err == nil && !isDir {
		return "", usageErrorf("-o %s: with several inputs, -o names a directory, and this is a file", outPath)
	}
	if err := os.MkdirAll(outPath, 0o700); err != nil {
		return "", fmt.Errorf("output directory: %w", err)
	}
	return outPath, nil
}

// uniqueName returns name, or name with a "-2", "-3"… before its extension
// when an earlier input of this run took it, and records it in taken.
func uniqueName(taken map[string]bool, name string) string {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	n := name
	for i := 2; taken[n]; i++ {
		n = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
	taken[n] = true
	return n
}

// locationName names a convoseal location by the object it reaches, from the
// path after its transcript SID: GT…-sentences-redacted,
// GT…-operator-LY…-unredacted, GT…-media-redacted. ok is false for other
// paths.
func locationName(u string) (name string, ok bool) {
	p := strings.SplitN(strings.SplitN(u, "?", 2)[0], "#", 2)[0]
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if len(s) != 34 || !strings.HasPrefix(s, "GT") {
			continue
		}
		rest := segs[i+1:]
		switch {
		case len(rest) == 2 && rest[0] == "sentences":
			return s + "-sentences-" + rest[1], true
		case len(rest) == 3 && rest[0] == "operator-results":
			return s + "-operator-" + rest[1] + "-" + rest[2], true
		case len(rest) == 2 && rest[0] == "media":
			return s + "-media-" + rest[1], true
		}
	}
	return "", false
}

// outputName derives a file name for an input when writing into a directory.
func outputName(in string) string {
	if isURL(in) {
		if n, ok := locationName(in); ok {
			if strings.Contains(n, "-media-") {
				return safeName(n) + ".wav"
			}
			return safeName(n) + ".json"
		}
	}
	name := in
	if isURL(in) {
		name = strings.SplitN(in, "?", 2)[0]
		name = path.Base(name)
	} else {
		name = filepath.Base(in)
	}
	return safeName(name) + ".json"
}

// safeName makes name one harmless path element.
func safeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, name)
	if name == "" || name == "." || name == ".." {
		name = "artifact"
	}
	return name
}

func displayName(in string) string {
	if isURL(in) {
		return client.RedactURL(in)
	}
	return in
}
