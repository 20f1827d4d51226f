package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Fuzz targets for the parsers and for Open. Each checks invariants, not just
// the absence of panics. Seeds come from the PEM files in testdata/keys (the
// fuzzseed-* ones were made once with openssl) and from the fixed sealed
// artifacts below.
//
//	go test ./seal -run '^$' -fuzz '^FuzzParsePublicKey$' -fuzztime 60s -parallel 1
//
// testdata/fuzz/<Target>/ holds regression inputs for invariant violations
// found in seal: pem-junk-before-block (text before the PEM block is skipped
// instead of refused) and even-modulus (a key that cannot be sealed to is
// accepted).

// fuzzPassphrase protects the encrypted fuzzseed-* keys.
const fuzzPassphrase = "FuzzSeedPassphrase2026"

// fuzzPEMTypes are the block types a fuzz input can be wrapped in when its
// selector byte is non-zero (the input is then DER, so that the fuzzer can
// mutate the ASN.1 directly rather than its base64).
var fuzzPEMTypes = []string{
	"PUBLIC KEY",
	"RSA PUBLIC KEY",
	"PRIVATE KEY",
	"RSA PRIVATE KEY",
	"ENCRYPTED PRIVATE KEY",
	"EC PRIVATE KEY",
	"CERTIFICATE",
	"OPENSSH PRIVATE KEY",
}

// fuzzKeyErrors are the sentinels of which every ParsePublicKey and
// ParsePrivateKey error must wrap exactly one.
var fuzzKeyErrors = []error{
	ErrEmptyKey, ErrNotPEM, ErrTrailingData, ErrKeyTooLarge, ErrPrivateKeyGiven,
	ErrPublicKeyGiven, ErrWrongPEMType, ErrUnsupportedKeyType, ErrMalformedKey,
	ErrKeyTooSmall, ErrKeyTooBig, ErrUnusualExponent, ErrPassphraseRequired,
	ErrBadPassphrase, ErrLegacyEncryptedKey,
}

// fuzzKeyInput turns a fuzz input into the bytes given to the parser: data
// itself when wrap is 0, otherwise data as the DER of a PEM block.
func fuzzKeyInput(data []byte, wrap uint8) []byte {
	if wrap == 0 {
		return data
	}
	typ := fuzzPEMTypes[int(wrap-1)%len(fuzzPEMTypes)]
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: data})
}

// fuzzAddKeySeeds adds every file in testdata/keys as it is, and the DER of
// each of its PEM blocks under its own type, plus hand-made edge cases.
// extra is appended to every seed's arguments.
func fuzzAddKeySeeds(f *testing.F, extra ...any) {
	files, err := filepath.Glob(filepath.Join("testdata", "keys", "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed keys in testdata/keys (%v)", err)
	}
	sort.Strings(files)
	add := func(data []byte, wrap uint8) { f.Add(append([]any{data, wrap}, extra...)...) }
	var pubPEM, privPEM []byte
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(data, 0)
		for rest := data; ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			for i, typ := range fuzzPEMTypes {
				if typ == b.Type {
					add(b.Bytes, uint8(i+1))
				}
			}
		}
		switch filepath.Base(name) {
		case "fuzzseed-rsa2048-pub.pem":
			pubPEM = data
		case "fuzzseed-rsa2048-pkcs8.pem":
			privPEM = data
		}
	}
	if pubPEM == nil || privPEM == nil {
		f.Fatal("testdata/keys/fuzzseed-rsa2048-{pub,pkcs8}.pem are missing")
	}
	crlf := bytes.ReplaceAll(pubPEM, []byte("\n"), []byte("\r\n"))
	withHeader := bytes.Replace(pubPEM, []byte("-----\n"), []byte("-----\nComment: fuzz\n\n"), 1)
	for _, s := range [][]byte{
		nil,
		[]byte(" \n\t"),
		[]byte("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ fuzz"),
		[]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"),
		[]byte("-----BEGIN PUBLIC KEY-----\nMIIB\n"),
		append(append([]byte{}, pubPEM...), pubPEM...),   // two blocks
		append(append([]byte{}, privPEM...), privPEM...), // two blocks
		append(append([]byte{}, pubPEM...), "trailing"...),
		append(append([]byte{}, pubPEM...), privPEM...),
		append([]byte("\n\n  "), crlf...),
		withHeader,
	} {
		add(s, 0)
	}
}

// fuzzCheckKeyError checks that err wraps exactly one key sentinel and echoes
// no key material from input.
func fuzzCheckKeyError(t *testing.T, input []byte, err error, secrets ...[]byte) {
	t.Helper()
	var wrapped []string
	for _, s := range fuzzKeyErrors {
		if errors.Is(err, s) {
			wrapped = append(wrapped, strconv.Quote(s.Error()))
		}
	}
	if len(wrapped) != 1 {
		t.Fatalf("error %q wraps %d key sentinels %v, want exactly one", err, len(wrapped), wrapped)
	}
	if leak, ok := fuzzLeak(input, err.Error(), secrets...); ok {
		t.Fatalf("error %q echoes key material %q from the input", err, leak)
	}
}

// fuzzLeakWindow is the length of an input substring that must not appear in
// an error message.
const fuzzLeakWindow = 16

func fuzzIsBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}

// fuzzLeak reports a fuzzLeakWindow-character substring of the PEM body of
// input (or of one of secrets) that appears in msg. Only windows made wholly
// of base64 characters count: a PEM body is base64, while the error texts
// have no such run of 16 (so a fuzzed body line that happens to spell out
// part of an error text is not a leak). The PEM type, which the parsers quote
// on purpose, is removed from msg first; BEGIN/END and header lines are not
// body.
func fuzzLeak(input []byte, msg string, secrets ...[]byte) (string, bool) {
	if b, _ := pem.Decode(bytes.TrimSpace(input)); b != nil {
		msg = strings.ReplaceAll(msg, strconv.Quote(b.Type), `"<type>"`)
	}
	inMsg := make(map[string]bool)
	for i := 0; i+fuzzLeakWindow <= len(msg); i++ {
		w := msg[i : i+fuzzLeakWindow]
		if strings.IndexFunc(w, func(r rune) bool { return r > 0x7f || !fuzzIsBase64Char(byte(r)) }) < 0 {
			inMsg[w] = true
		}
	}
	if len(inMsg) == 0 {
		return "", false
	}
	check := func(line []byte) (string, bool) {
		run := 0
		for i, c := range line {
			if !fuzzIsBase64Char(c) {
				run = 0
				continue
			}
			if run++; run >= fuzzLeakWindow {
				if w := string(line[i+1-fuzzLeakWindow : i+1]); inMsg[w] {
					return w, true
				}
			}
		}
		return "", false
	}
	for _, line := range bytes.Split(input, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if bytes.HasPrefix(line, []byte("-----")) || bytes.IndexByte(line, ':') >= 0 {
			continue
		}
		if w, ok := check(line); ok {
			return w, true
		}
	}
	for _, s := range secrets {
		if w, ok := check(s); ok {
			return w, true
		}
	}
	return "", false
}

// fuzzCheckOneBlock checks what ParsePublicKey and ParsePrivateKey document:
// an accepted input is exactly one PEM block with only white space around it,
// that is, its first line is the only BEGIN line and its last the only END line.
func fuzzCheckOneBlock(t *testing.T, input []byte) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(input), []byte("\n"))
	var begins, ends int
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte("-----BEGIN ")) {
			begins++
		}
		if bytes.HasPrefix(l, []byte("-----END ")) {
			ends++
		}
	}
	if begins != 1 || ends != 1 || !bytes.HasPrefix(lines[0], []byte("-----BEGIN ")) ||
		!bytes.HasPrefix(lines[len(lines)-1], []byte("-----END ")) {
		t.Fatalf("accepted an input that is not exactly one PEM block with white space around it:\n%q", input)
	}
}

func fuzzCheckPolicy(t *testing.T, bits, e int) {
	t.Helper()
	if bits < MinRSABits || bits > MaxRSABits || e != RSAExponent {
		t.Fatalf("returned a %d-bit key with exponent %d, outside the policy (%d–%d bits, e=%d)",
			bits, e, MinRSABits, MaxRSABits, RSAExponent)
	}
}

func FuzzParsePublicKey(f *testing.F) {
	fuzzAddKeySeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, wrap uint8) {
		input := fuzzKeyInput(data, wrap)
		pub, err := ParsePublicKey(input)
		switch {
		case pub == nil && err == nil:
			t.Fatal("ParsePublicKey returned (nil, nil)")
		case pub != nil && err != nil:
			t.Fatalf("ParsePublicKey returned both a key and the error %q", err)
		case err != nil:
			fuzzCheckKeyError(t, input, err)
			return
		}
		if pub.N == nil {
			t.Fatal("returned a key with a nil modulus")
		}
		fuzzCheckPolicy(t, pub.N.BitLen(), pub.E)
		fuzzCheckOneBlock(t, input)
		r, err := NewRSARecipient(pub)
		if err != nil {
			t.Fatalf("NewRSARecipient refused a key ParsePublicKey accepted: %v", err)
		}
		if fp := r.Fingerprint(); !strings.HasPrefix(fp, "SHA256:") || fp == "SHA256:invalid" {
			t.Fatalf("fingerprint %q", fp)
		}
		// A key that is accepted at registration must be one we can seal to.
		if _, err := r.Wrap(make([]byte, CEKSize)); err != nil {
			t.Fatalf("ParsePublicKey accepted a %d-bit key that cannot wrap a content key: %v", pub.N.BitLen(), err)
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	// passMode selects the passphrase callback: 0 none (nil), 1 returns pass,
	// 2 fails.
	for _, pm := range []uint8{0, 1, 2} {
		fuzzAddKeySeeds(f, pm, []byte(fuzzPassphrase))
	}
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"), uint8(0), uint8(1), []byte{})
	f.Fuzz(func(t *testing.T, data []byte, wrap, passMode uint8, pass []byte) {
		input := fuzzKeyInput(data, wrap)
		var calls int
		var given []byte
		var cb func() ([]byte, error)
		switch passMode % 3 {
		case 1:
			cb = func() ([]byte, error) {
				calls++
				given = append([]byte{}, pass...)
				return given, nil
			}
		case 2:
			cb = func() ([]byte, error) {
				calls++
				return nil, errors.New("fuzz: no passphrase")
			}
		}
		priv, err := ParsePrivateKey(input, cb)
		if calls > 1 {
			t.Fatalf("passphrase callback called %d times", calls)
		}
		if calls > 0 {
			if b, _ := pem.Decode(bytes.TrimSpace(input)); b == nil || b.Type != "ENCRYPTED PRIVATE KEY" {
				t.Fatal("passphrase callback called for a key that is not ENCRYPTED PRIVATE KEY")
			}
			if len(given) > 0 && !bytes.Equal(given, make([]byte, len(given))) {
				t.Fatal("the passphrase buffer was not cleared")
			}
		}
		switch {
		case priv == nil && err == nil:
			t.Fatal("ParsePrivateKey returned (nil, nil)")
		case priv != nil && err != nil:
			t.Fatalf("ParsePrivateKey returned both a key and the error %q", err)
		case err != nil:
			fuzzCheckKeyError(t, input, err, pass)
			return
		}
		if priv.N == nil {
			t.Fatal("returned a key with a nil modulus")
		}
		fuzzCheckPolicy(t, priv.N.BitLen(), priv.E)
		fuzzCheckOneBlock(t, input)
		if err := priv.Validate(); err != nil {
			t.Fatalf("returned a key that fails Validate: %v", err)
		}
		if _, err := NewRSAIdentity(priv); err != nil {
			t.Fatalf("NewRSAIdentity refused a key ParsePrivateKey accepted: %v", err)
		}
	})
}

// fuzzSealed is a genuine artifact, made once with Seal for the fuzzseed RSA
// key and for the KEK sha256("convoseal fuzz seed KEK"). They are constants so
// that every fuzzing process agrees on what is genuine.
type fuzzSealed struct {
	plaintext string
	body      string            // base64
	meta      map[string]string // as from Envelope.Metadata
}

var fuzzSeals = []fuzzSealed{{
	plaintext: "convoseal fuzz seed: a genuine sealed artifact",
	body:      "xGl01/C9tajuOcfn4uSpHiJWagrSdQNs+9kXXnq0QbsrXyl4ANrpQqTxJ4Vr3exN+WHPZHmvVdUJQ4ybT/c=",
	meta: map[string]string{
		MetaCEKAlg:  CEKAlgAESGCM,
		MetaWrapAlg: WrapAlgRSAOAEP,
		MetaTagLen:  "128",
		MetaMatDesc: `{"fingerprint":"SHA256:YghDuQiinyG62siCL8ko3Pe3hNsirOxaWuw35ryhNu0"}`,
		MetaKey:     "rHO+jkYvgheMtp+VDGFiKMfdpXgQA/w0NEByLO2rk8Q1hj3ECS96zESGSUvYX05HD8fMyqxtscvQBFJzMLhSKv+7+9ZSqWTBmE50hx61XLkoPCroeyLIvynr/B801Y70LMPPem8t45AlKh7UHRIMkmIlT0OhJBZ13vRbSRFmXb/y++8VoXWiG2++EDlLwHEto7b6nMQn2t2Bxsl77h38WVVxJ6zuHvMlkJ50x6WuwoYHdH2nIjT5slI68TIIIV0LRor+XjMI9LY/HaqXTkwyOiik/FabD1wSxzBLhpFKfiq+/zxoL8W3ye4D5AzFKUC6EIqXseyDlEmjRCu4Wm/DSQ==",
		MetaIV:      "YYDlXvCj1myvvmrJ",
	},
}, {
	plaintext: "convoseal fuzz seed: sealed under the server KEK",
	body:      "3yoJ1iOLo82PQkGe3P8wGdJq7s1wfV1DR8epfo8/4OkSlXv4KAni/A/viNDlBpXgDJgNoKynFhRYH1yTjx6zuA==",
	meta: map[string]string{
		MetaCEKAlg:  CEKAlgAESGCM,
		MetaWrapAlg: WrapAlgAESGCMKEK,
		MetaTagLen:  "128",
		MetaMatDesc: `{"fingerprint":"KEK:RzSFDGSHU8hgYY2V"}`,
		MetaKey:     "4JlqKzYADhhHRRsZ+QfFJtjDf4wrQkvk4odvujemj9PBhwC7OwHD24QmSUtOIf3Qqz1U40ZoZlR9babU",
		MetaIV:      "mhdV24J4T1V8bhDY",
	},
}}

// fuzzDecodedSeal is a fuzzSealed with its fields decoded.
type fuzzDecodedSeal struct {
	plaintext, body, wrapped, iv []byte
	wrapAlg                      string
}

var fuzzOpenSetup struct {
	once  sync.Once
	id    Identity
	seals []fuzzDecodedSeal
	err   error
}

// fuzzOpenIdentity returns Identities{the fuzzseed RSA key, the fuzz KEK} and
// the decoded genuine artifacts.
func fuzzOpenIdentity(tb testing.TB) (Identity, []fuzzDecodedSeal) {
	s := &fuzzOpenSetup
	s.once.Do(func() {
		data, err := os.ReadFile(filepath.Join("testdata", "keys", "fuzzseed-rsa2048-pkcs8.pem"))
		if err != nil {
			s.err = err
			return
		}
		priv, err := ParsePrivateKey(data, nil)
		if err != nil {
			s.err = err
			return
		}
		rsaID, err := NewRSAIdentity(priv)
		if err != nil {
			s.err = err
			return
		}
		k := sha256.Sum256([]byte("convoseal fuzz seed KEK"))
		kek, err := NewKEK(k[:])
		if err != nil {
			s.err = err
			return
		}
		s.id = Identities{rsaID, kek}
		for _, fs := range fuzzSeals {
			d := fuzzDecodedSeal{plaintext: []byte(fs.plaintext), wrapAlg: fs.meta[MetaWrapAlg]}
			var e1, e2, e3 error
			d.body, e1 = base64.StdEncoding.DecodeString(fs.body)
			d.wrapped, e2 = base64.StdEncoding.DecodeString(fs.meta[MetaKey])
			d.iv, e3 = base64.StdEncoding.DecodeString(fs.meta[MetaIV])
			if s.err = errors.Join(e1, e2, e3); s.err != nil {
				return
			}
			s.seals = append(s.seals, d)
		}
	})
	if s.err != nil {
		tb.Fatalf("setting up the fuzz identity: %v", s.err)
	}
	return s.id, s.seals
}

// fuzzMetaLines renders meta, less the key and IV, as the "name=value" lines
// FuzzOpen takes, followed by the extra lines.
func fuzzMetaLines(meta map[string]string, extra ...string) string {
	var keys []string
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if k == MetaKey || k == MetaIV {
			continue
		}
		b.WriteString(HeaderPrefix + k + "=" + meta[k] + "\n")
	}
	for _, s := range extra {
		b.WriteString(s + "\n")
	}
	return b.String()
}

// FuzzOpen opens fuzzed artifacts two ways: a minimal Envelope built from the
// wrapped key and IV bytes, and metadata (x-amz-meta-x-amz-key and -iv, the
// base64 of those bytes, plus the "name=value" lines of meta, which may add
// or override any entry) through ParseMetadata. Only a genuine artifact may
// open, and it must open to its plaintext; everything else must fail with
// ErrIncorrectIdentity, ErrAuthentication or ErrMalformedEnvelope.
func FuzzOpen(f *testing.F) {
	_, seals := fuzzOpenIdentity(f)
	for i, fs := range fuzzSeals {
		d := seals[i]
		other := seals[(i+1)%len(seals)]
		full := fuzzMetaLines(fs.meta)
		f.Add(d.body, d.wrapped, d.iv, full)
		f.Add(d.body, d.wrapped, d.iv, "")
		f.Add(d.body, d.wrapped, d.iv, fuzzMetaLines(fs.meta, "x-amz-key="+strings.TrimRight(fs.meta[MetaKey], "=")))
		f.Add(d.body, d.wrapped, d.iv, fuzzMetaLines(fs.meta, "X-Amz-Meta-X-Amz-Wrap-Alg="+other.wrapAlg))
		f.Add(d.body, d.wrapped, d.iv, "x-amz-tag-len=96\nx-amz-cek-alg=AES/CBC/PKCS5Padding\n")
		f.Add(d.body, d.wrapped, d.iv, "x-amz-matdesc={not json\nx-amz-tag-len= 128 \n")
		f.Add(d.body, d.wrapped, d.iv, "x-amz-meta-x-amz-iv= "+fs.meta[MetaIV]+" \nx-amz-meta-x-amz-key=!!!\n")
		f.Add(d.body[:len(d.body)-1], d.wrapped, d.iv, full)
		f.Add(d.body[:TagSize-1], d.wrapped, d.iv, full)
		f.Add(d.body, other.wrapped, d.iv, full)
		f.Add(d.body, d.wrapped, other.iv, full)
		f.Add(other.body, d.wrapped, d.iv, "")
		f.Add(d.body, d.wrapped[1:], d.iv, "")
		f.Add(d.body, d.wrapped, append(append([]byte{}, d.iv...), 0), "")
	}
	f.Add([]byte{}, []byte{}, []byte{}, "")

	f.Fuzz(func(t *testing.T, body, wrapped, iv []byte, meta string) {
		id, seals := fuzzOpenIdentity(t)
		bodyCopy := append([]byte{}, body...)

		check := func(how string, env Envelope, pt []byte, err error) {
			t.Helper()
			var genuine *fuzzDecodedSeal
			for i, s := range seals {
				if bytes.Equal(body, s.body) && bytes.Equal(env.WrappedKey, s.wrapped) && bytes.Equal(env.IV, s.iv) &&
					(env.WrapAlg == "" || env.WrapAlg == s.wrapAlg) {
					genuine = &seals[i]
				}
			}
			switch {
			case err == nil && genuine == nil:
				t.Fatalf("%s: Open accepted a forged artifact (IV %x, wrapped key %x, wrap alg %q) and returned %q", how, env.IV, env.WrappedKey, env.WrapAlg, pt)
			case err == nil && !bytes.Equal(pt, genuine.plaintext):
				t.Fatalf("%s: Open = %q, want %q", how, pt, genuine.plaintext)
			case err != nil && genuine != nil:
				t.Fatalf("%s: Open refused a genuine artifact: %v", how, err)
			case err != nil && !errors.Is(err, ErrIncorrectIdentity) && !errors.Is(err, ErrAuthentication) && !errors.Is(err, ErrMalformedEnvelope):
				t.Fatalf("%s: Open error %q wraps none of ErrIncorrectIdentity, ErrAuthentication, ErrMalformedEnvelope", how, err)
			case err != nil && pt != nil:
				t.Fatalf("%s: Open returned plaintext with the error %q", how, err)
			}
			if !bytes.Equal(body, bodyCopy) {
				t.Fatalf("%s: Open modified the body", how)
			}
		}

		direct := Envelope{WrappedKey: wrapped, IV: iv}
		pt, err := Open(id, body, direct)
		check("Envelope", direct, pt, err)

		m := map[string]string{
			HeaderPrefix + MetaKey: base64.StdEncoding.EncodeToString(wrapped),
			HeaderPrefix + MetaIV:  base64.StdEncoding.EncodeToString(iv),
		}
		for _, line := range strings.Split(meta, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				m[k] = v
			}
		}
		env, err := ParseMetadata(m)
		if err != nil {
			if !errors.Is(err, ErrMalformedEnvelope) {
				t.Fatalf("ParseMetadata error %q does not wrap ErrMalformedEnvelope", err)
			}
			return
		}
		if env.validate() != nil {
			t.Fatalf("ParseMetadata returned an envelope that fails validation: %v", env.validate())
		}
		if bytes.Equal(env.WrappedKey, direct.WrappedKey) && bytes.Equal(env.IV, direct.IV) && env.CEKAlg == "" &&
			env.WrapAlg == "" && env.TagLen == 0 && env.Fingerprint == "" && env.CredentialSID == "" {
			return // the same envelope as above: spare a second RSA operation
		}
		pt, err = Open(id, body, env)
		check("ParseMetadata", env, pt, err)
	})
}
