package seal

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convoseal/convoseal/seal/internal/libcrypto"
)

// The Wycheproof vectors the tests use are vendored in testdata/wycheproof
// (upstream repository and commit in SOURCE, Apache-2.0 LICENSE, SHA-256
// digests in SHA256SUMS). CONVOSEAL_WYCHEPROOF_DIR points the tests at another
// copy, e.g. a newer upstream checkout; the digests are then not checked.
const wycheproofVendored = "testdata/wycheproof"

// wycheproofFiles are the vector files the tests read; each must be listed in
// testdata/wycheproof/SHA256SUMS.
var wycheproofFiles = []string{
	"aes_gcm_test.json",
	"rsa_oaep_2048_sha256_mgf1sha256_test.json",
	"rsa_oaep_3072_sha256_mgf1sha256_test.json",
	"rsa_oaep_4096_sha256_mgf1sha256_test.json",
}

// Minimum numbers of vectors that must run, so that the tests cannot pass
// vacuously (for example if the group filter stops matching). They are the
// counts in Wycheproof commit dac1dd4729fd1f8dd9e1e9f3dce51d783da6c166.
const (
	wycheproofMinGCMValid    = 39 // keySize 256, ivSize 96, tagSize 128
	wycheproofMinGCMInvalid  = 27
	wycheproofMinOAEPValid   = 18 // per rsa_oaep_*_sha256_mgf1sha256_test.json file
	wycheproofMinOAEPInvalid = 19
	wycheproofMinOAEPUnwrap  = 1 // valid, empty label, 32-byte message
)

// wycheproofDir is CONVOSEAL_WYCHEPROOF_DIR if set, else the vendored copy.
func wycheproofDir(t *testing.T) (dir string, vendored bool) {
	t.Helper()
	if d := os.Getenv("CONVOSEAL_WYCHEPROOF_DIR"); d != "" {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Fatalf("CONVOSEAL_WYCHEPROOF_DIR=%s is not a directory", d)
		}
		return d, false
	}
	return wycheproofVendored, true
}

// wycheproofSums parses testdata/wycheproof/SHA256SUMS (sha256sum format).
func wycheproofSums(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(wycheproofVendored, "SHA256SUMS"))
	if err != nil {
		t.Fatalf("reading the Wycheproof manifest: %v", err)
	}
	sums := make(map[string]string)
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || name == "" {
			t.Fatalf("SHA256SUMS line %d malformed: %q", i+1, line)
		}
		sums[name] = sum
	}
	return sums
}

// TestWycheproofVendored checks that the vendored vectors are complete and
// unmodified: every file the tests read, and the license, is in SHA256SUMS
// with a matching digest, and SOURCE names the upstream commit.
func TestWycheproofVendored(t *testing.T) {
	sums := wycheproofSums(t)
	for _, name := range append([]string{"LICENSE"}, wycheproofFiles...) {
		if _, ok := sums[name]; !ok {
			t.Errorf("%s is not listed in %s/SHA256SUMS", name, wycheproofVendored)
		}
	}
	for name, want := range sums {
		data, err := os.ReadFile(filepath.Join(wycheproofVendored, name))
		if err != nil {
			t.Errorf("vendored Wycheproof file missing: %v", err)
			continue
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != want {
			t.Errorf("%s: SHA-256 %s, SHA256SUMS says %s", name, got, want)
		}
	}
	src, err := os.ReadFile(filepath.Join(wycheproofVendored, "SOURCE"))
	if err != nil {
		t.Fatalf("reading SOURCE: %v", err)
	}
	if !bytes.Contains(src, []byte("dac1dd4729fd1f8dd9e1e9f3dce51d783da6c166")) {
		t.Errorf("SOURCE does not name the upstream commit the minimum counts are from")
	}
}

func wycheproofLoad(t *testing.T, name string, v any) {
	t.Helper()
	dir, vendored := wycheproofDir(t)
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading Wycheproof vectors: %v", err)
	}
	if vendored {
		want, ok := wycheproofSums(t)[name]
		if !ok {
			t.Fatalf("%s is not listed in %s/SHA256SUMS", name, wycheproofVendored)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != want {
			t.Fatalf("%s: SHA-256 %s, SHA256SUMS says %s", path, got, want)
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
}

func wycheproofHex(t *testing.T, field, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in %s: %v", field, err)
	}
	return b
}

// wycheproofCounts tallies the vectors that ran, by expected result.
type wycheproofCounts struct {
	valid, invalid, acceptable int
}

func (c *wycheproofCounts) add(result string) {
	switch result {
	case "valid":
		c.valid++
	case "invalid":
		c.invalid++
	case "acceptable":
		c.acceptable++
	}
}

type wycheproofAEADFile struct {
	Algorithm  string `json:"algorithm"`
	TestGroups []struct {
		KeySize int `json:"keySize"`
		IVSize  int `json:"ivSize"`
		TagSize int `json:"tagSize"`
		Tests   []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Key     string   `json:"key"`
			IV      string   `json:"iv"`
			AAD     string   `json:"aad"`
			Msg     string   `json:"msg"`
			CT      string   `json:"ct"`
			Tag     string   `json:"tag"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// TestWycheproofAESGCM runs the AES-256-GCM vectors with 96-bit IVs and 128-bit
// tags (the only parameters the format uses) through openGCM, and checks that
// GCM sealing reproduces the ciphertext and tag of every valid vector.
func TestWycheproofAESGCM(t *testing.T) {
	const name = "aes_gcm_test.json"
	var f wycheproofAEADFile
	wycheproofLoad(t, name, &f)
	if f.Algorithm != "AES-GCM" {
		t.Fatalf("%s: algorithm %q, want AES-GCM", name, f.Algorithm)
	}
	var n wycheproofCounts
	t.Run(name, func(t *testing.T) {
		for _, g := range f.TestGroups {
			if g.KeySize != 256 || g.IVSize != 96 || g.TagSize != 128 {
				continue
			}
			for _, tc := range g.Tests {
				n.add(tc.Result)
				t.Run(fmt.Sprintf("tcId=%d", tc.TcID), func(t *testing.T) {
					key := wycheproofHex(t, "key", tc.Key)
					iv := wycheproofHex(t, "iv", tc.IV)
					aad := wycheproofHex(t, "aad", tc.AAD)
					msg := wycheproofHex(t, "msg", tc.Msg)
					ct := wycheproofHex(t, "ct", tc.CT)
					tag := wycheproofHex(t, "tag", tc.Tag)
					body := append(append([]byte{}, ct...), tag...)
					desc := fmt.Sprintf("%s %v %q", tc.Result, tc.Flags, tc.Comment)

					pt, err := openGCM(key, iv, body, aad)
					switch tc.Result {
					case "valid":
						if err != nil {
							t.Fatalf("%s: openGCM: %v", desc, err)
						}
						if !bytes.Equal(pt, msg) {
							t.Fatalf("%s: openGCM = %x, want %x", desc, pt, msg)
						}
						aead, err := newGCM(key)
						if err != nil {
							t.Fatalf("newGCM: %v", err)
						}
						if got := aead.Seal(nil, iv, msg, aad); !bytes.Equal(got, body) {
							t.Fatalf("%s: GCM seal = %x, want ct||tag %x", desc, got, body)
						}
					case "invalid":
						if err == nil {
							t.Fatalf("%s: openGCM accepted an invalid vector, returning %x", desc, pt)
						}
						if !errors.Is(err, ErrAuthentication) {
							t.Fatalf("%s: openGCM error %v, want ErrAuthentication", desc, err)
						}
					case "acceptable":
						// Either outcome is allowed, but an accepted vector must decrypt to msg.
						if err == nil && !bytes.Equal(pt, msg) {
							t.Fatalf("%s: openGCM = %x, want %x", desc, pt, msg)
						}
						t.Logf("%s: acceptable vector, openGCM error = %v", desc, err)
					default:
						t.Fatalf("unknown result %q", tc.Result)
					}
				})
			}
		}
	})
	t.Logf("%s (AES-256, 96-bit IV, 128-bit tag): %d valid, %d invalid, %d acceptable", name, n.valid, n.invalid, n.acceptable)
	if n.valid < wycheproofMinGCMValid || n.invalid < wycheproofMinGCMInvalid {
		t.Fatalf("%s: only %d valid and %d invalid vectors ran, want at least %d and %d",
			name, n.valid, n.invalid, wycheproofMinGCMValid, wycheproofMinGCMInvalid)
	}
}

type wycheproofOAEPFile struct {
	Algorithm  string `json:"algorithm"`
	TestGroups []struct {
		KeySize       int    `json:"keySize"`
		SHA           string `json:"sha"`
		MGF           string `json:"mgf"`
		MGFSHA        string `json:"mgfSha"`
		PrivateKeyPEM string `json:"privateKeyPem"`
		PrivateKey    struct {
			Modulus        string `json:"modulus"`
			PublicExponent string `json:"publicExponent"`
		} `json:"privateKey"`
		Tests []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Msg     string   `json:"msg"`
			CT      string   `json:"ct"`
			Label   string   `json:"label"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// TestWycheproofRSAOAEP parses each group's private key with ParsePrivateKey,
// runs every vector through decryptOAEP and through libcrypto (labels
// included), and runs the vectors that look like a wrapped CEK (empty label,
// 32-byte message) through RSAIdentity.Unwrap with each backend.
func TestWycheproofRSAOAEP(t *testing.T) {
	useLC := envBackend().libcrypto
	if !useLC && libcrypto.Built && os.Getenv(EnvCrypto) == "" && os.Getenv(libcrypto.EnvLibrary) == "" {
		t.Fatalf("libcrypto should load on this machine: %s", RSABackend())
	}
	for _, bits := range []int{2048, 3072, 4096} {
		name := fmt.Sprintf("rsa_oaep_%d_sha256_mgf1sha256_test.json", bits)
		var f wycheproofOAEPFile
		wycheproofLoad(t, name, &f)
		var n wycheproofCounts
		var unwrapValid, unwrapInvalid, rejectedKeys, lcRan int
		t.Run(name, func(t *testing.T) {
			if f.Algorithm != "RSAES-OAEP" {
				t.Fatalf("algorithm %q, want RSAES-OAEP", f.Algorithm)
			}
			for gi, g := range f.TestGroups {
				if g.SHA != "SHA-256" || g.MGF != "MGF1" || g.MGFSHA != "SHA-256" {
					t.Fatalf("group %d: %s/%s-%s, want SHA-256/MGF1-SHA-256", gi, g.SHA, g.MGF, g.MGFSHA)
				}
				priv, err := ParsePrivateKey([]byte(g.PrivateKeyPEM), nil)
				if err != nil {
					// A Wycheproof key our policy refuses (size, exponent) is reported, not skipped.
					rejectedKeys++
					t.Errorf("group %d (%d-bit key): ParsePrivateKey refused the key: %v", gi, g.KeySize, err)
					continue
				}
				wantN, ok := new(big.Int).SetString(g.PrivateKey.Modulus, 16)
				if !ok || priv.N.Cmp(wantN) != 0 {
					t.Fatalf("group %d: parsed modulus does not match the group's privateKey.modulus", gi)
				}
				if priv.N.BitLen() != g.KeySize {
					t.Fatalf("group %d: parsed a %d-bit key, group says %d", gi, priv.N.BitLen(), g.KeySize)
				}
				id, err := NewRSAIdentity(priv)
				if err != nil {
					t.Fatalf("group %d: NewRSAIdentity: %v", gi, err)
				}
				var lk *libcrypto.PrivateKey
				if useLC {
					if lk, err = libcrypto.NewPrivateKey(x509.MarshalPKCS1PrivateKey(priv), priv.N.BitLen()); err != nil {
						t.Fatalf("group %d: libcrypto refused the key: %v", gi, err)
					}
					if id.Backend() != BackendLibcrypto {
						t.Fatalf("group %d: the identity does not use libcrypto", gi)
					}
				}
				for _, tc := range g.Tests {
					n.add(tc.Result)
					t.Run(fmt.Sprintf("tcId=%d", tc.TcID), func(t *testing.T) {
						msg := wycheproofHex(t, "msg", tc.Msg)
						ct := wycheproofHex(t, "ct", tc.CT)
						label := wycheproofHex(t, "label", tc.Label)
						desc := fmt.Sprintf("%s %v %q", tc.Result, tc.Flags, tc.Comment)

						if lk != nil {
							lcRan++
							lpt, lerr := lk.DecryptOAEP(ct, label)
							switch {
							case tc.Result == "valid" && (lerr != nil || !bytes.Equal(lpt, msg)):
								t.Errorf("%s: libcrypto = %x, %v; want %x", desc, lpt, lerr, msg)
							case tc.Result == "invalid" && lerr == nil:
								t.Errorf("%s: libcrypto accepted an invalid vector, returning %x", desc, lpt)
							case tc.Result == "acceptable" && lerr == nil && !bytes.Equal(lpt, msg):
								t.Errorf("%s: libcrypto = %x, want %x", desc, lpt, msg)
							}
						}

						pt, err := decryptOAEP(priv, ct, label)
						switch tc.Result {
						case "valid":
							if err != nil {
								t.Fatalf("%s: decryptOAEP: %v", desc, err)
							}
							if !bytes.Equal(pt, msg) {
								t.Fatalf("%s: decryptOAEP = %x, want %x", desc, pt, msg)
							}
						case "invalid":
							if err == nil {
								t.Fatalf("%s: decryptOAEP accepted an invalid vector, returning %x", desc, pt)
							}
						case "acceptable":
							if err == nil && !bytes.Equal(pt, msg) {
								t.Fatalf("%s: decryptOAEP = %x, want %x", desc, pt, msg)
							}
							t.Logf("%s: acceptable vector, decryptOAEP error = %v", desc, err)
						default:
							t.Fatalf("unknown result %q", tc.Result)
						}

						// The public path: Unwrap only sees empty labels.
						if len(label) != 0 {
							return
						}
						w := WrappedKey{Algorithm: WrapAlgRSAOAEP, KeyID: id.Fingerprint(), Key: ct}
						backends := []bool{true} // pure Go
						if lk != nil {
							backends = append(backends, false)
						}
						for _, pureGo := range backends {
							forcePureGo.Store(pureGo)
							cek, err := id.Unwrap(w)
							forcePureGo.Store(false)
							switch {
							case tc.Result == "valid" && len(msg) == CEKSize:
								unwrapValid++
								if err != nil {
									t.Fatalf("%s (pure Go %v): Unwrap: %v", desc, pureGo, err)
								}
								if !bytes.Equal(cek, msg) {
									t.Fatalf("%s (pure Go %v): Unwrap = %x, want %x", desc, pureGo, cek, msg)
								}
							case tc.Result == "invalid":
								unwrapInvalid++
								if !errors.Is(err, ErrIncorrectIdentity) {
									t.Fatalf("%s (pure Go %v): Unwrap = %x, %v; want ErrIncorrectIdentity", desc, pureGo, cek, err)
								}
							}
						}
					})
				}
			}
		})
		t.Logf("%s: %d valid, %d invalid, %d acceptable; through libcrypto: %d; through Unwrap, summed over the backends in use: %d valid, %d invalid; keys refused by policy: %d",
			name, n.valid, n.invalid, n.acceptable, lcRan, unwrapValid, unwrapInvalid, rejectedKeys)
		if useLC && lcRan < n.valid+n.invalid+n.acceptable {
			t.Errorf("%s: only %d of %d vectors ran through libcrypto", name, lcRan, n.valid+n.invalid+n.acceptable)
		}
		if n.valid < wycheproofMinOAEPValid || n.invalid < wycheproofMinOAEPInvalid || unwrapValid < wycheproofMinOAEPUnwrap {
			t.Errorf("%s: only %d valid, %d invalid and %d Unwrap vectors ran, want at least %d, %d and %d",
				name, n.valid, n.invalid, unwrapValid, wycheproofMinOAEPValid, wycheproofMinOAEPInvalid, wycheproofMinOAEPUnwrap)
		}
	}
}
