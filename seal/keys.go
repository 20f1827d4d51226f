package seal

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/youmark/pkcs8"
)

// Key policy.
const (
	MinRSABits     = 2048
	MaxRSABits     = 8192
	RSAExponent    = 65537
	MaxKeyFileSize = 64 << 10 // bytes of PEM accepted
)

// Key-parsing errors. Each error returned by [ParsePublicKey] and
// [ParsePrivateKey] wraps exactly one of them; none ever contains key material.
var (
	ErrEmptyKey           = errors.New("no key given: the input is empty")
	ErrNotPEM             = errors.New("not a PEM key: expected one block from -----BEGIN ...----- to -----END ...-----")
	ErrTrailingData       = errors.New("unexpected data after the PEM block: give exactly one key")
	ErrKeyTooLarge        = errors.New("key input is too large")
	ErrPrivateKeyGiven    = errors.New("this is a PRIVATE key; register the PUBLIC key instead (openssl rsa -in private_key.pem -pubout -out public_key.pem) and keep the private key secret")
	ErrPublicKeyGiven     = errors.New("this is a public key; decryption needs the matching private key")
	ErrWrongPEMType       = errors.New("unsupported PEM block")
	ErrUnsupportedKeyType = errors.New("unsupported key type: only RSA keys are accepted")
	ErrMalformedKey       = errors.New("malformed key: the PEM block does not contain a valid key")
	ErrKeyTooSmall        = fmt.Errorf("RSA key is too small: at least %d bits are required", MinRSABits)
	ErrKeyTooBig          = fmt.Errorf("RSA key is too large: at most %d bits are supported", MaxRSABits)
	ErrUnusualExponent    = fmt.Errorf("RSA public exponent is unusual: only %d is accepted", RSAExponent)
	ErrPassphraseRequired = errors.New("the private key is encrypted: a passphrase is required")
	ErrBadPassphrase      = errors.New("cannot decrypt the private key: wrong passphrase, or the key is corrupt")
	ErrLegacyEncryptedKey = errors.New("legacy PEM encryption (Proc-Type: 4,ENCRYPTED) is not supported: convert with openssl pkcs8 -topk8 -in old.pem -out new.pem")
)

var privateMarker = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)

// Fingerprint is the key's stable identifier: "SHA256:" followed by the
// unpadded standard base64 of SHA-256 over the DER SubjectPublicKeyInfo, the
// same value as
//
//	openssl pkey -pubin -in public_key.pem -outform DER | openssl dgst -sha256 -binary | base64
//
// without the trailing "=".
func Fingerprint(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "SHA256:invalid"
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// ParsePublicKey parses one PEM "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY"
// (PKCS #1) block holding an RSA key of [MinRSABits] to [MaxRSABits] bits with
// exponent 65537. Surrounding white space is allowed; anything else is not.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	block, err := decodeOnePEM(data)
	if err != nil {
		if privateMarker.Match(data) {
			return nil, ErrPrivateKeyGiven
		}
		return nil, err
	}
	if privateMarker.MatchString("-----BEGIN " + block.Type + "-----") {
		return nil, ErrPrivateKeyGiven
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		if len(block.Headers) > 0 {
			return nil, fmt.Errorf("%w: unexpected PEM headers", ErrMalformedKey)
		}
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			if k, ok := unsupportedAlgorithm(err); ok {
				return nil, k
			}
			return nil, fmt.Errorf("%w (PUBLIC KEY)", ErrMalformedKey)
		}
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w (RSA PUBLIC KEY)", ErrMalformedKey)
		}
	case "CERTIFICATE":
		return nil, fmt.Errorf("%w: this is a certificate; extract its public key with openssl x509 -in cert.pem -pubkey -noout", ErrWrongPEMType)
	default:
		return nil, fmt.Errorf("%w %q: expected PUBLIC KEY or RSA PUBLIC KEY", ErrWrongPEMType, block.Type)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: got %s", ErrUnsupportedKeyType, keyTypeName(pub))
	}
	if err := checkRSAPublic(rsaPub); err != nil {
		return nil, err
	}
	return rsaPub, nil
}

// ParsePrivateKey parses one PEM RSA private key: PKCS #1 "RSA PRIVATE KEY"
// (openssl genrsa), PKCS #8 "PRIVATE KEY" (openssl pkcs8 -topk8 -nocrypt) or
// passphrase-protected PKCS #8 "ENCRYPTED PRIVATE KEY" (PBES2 with PBKDF2 or
// scrypt). passphrase is called only for an encrypted key and may be nil.
func ParsePrivateKey(data []byte, passphrase func() ([]byte, error)) (*rsa.PrivateKey, error) {
	block, err := decodeOnePEM(data)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		if block.Headers["Proc-Type"] != "" {
			return nil, ErrLegacyEncryptedKey
		}
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		if k, ok := unsupportedAlgorithm(err); ok {
			return nil, k
		}
	case "ENCRYPTED PRIVATE KEY":
		if passphrase == nil {
			return nil, ErrPassphraseRequired
		}
		pass, perr := passphrase()
		if perr != nil {
			return nil, fmt.Errorf("%w: %v", ErrPassphraseRequired, perr)
		}
		if len(pass) == 0 {
			return nil, ErrPassphraseRequired
		}
		key, err = pkcs8.ParsePKCS8PrivateKey(block.Bytes, pass)
		clear(pass)
		if err != nil {
			return nil, ErrBadPassphrase
		}
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, ErrPublicKeyGiven
	case "EC PRIVATE KEY":
		return nil, fmt.Errorf("%w: got an EC private key", ErrUnsupportedKeyType)
	case "OPENSSH PRIVATE KEY":
		return nil, fmt.Errorf("%w: got an OpenSSH private key (convert an RSA one with ssh-keygen -p -m PKCS8 -f key)", ErrUnsupportedKeyType)
	default:
		return nil, fmt.Errorf("%w %q: expected RSA PRIVATE KEY, PRIVATE KEY or ENCRYPTED PRIVATE KEY", ErrWrongPEMType, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", ErrMalformedKey, block.Type)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: got %s", ErrUnsupportedKeyType, keyTypeName(key))
	}
	if err := checkRSAPublic(&priv.PublicKey); err != nil {
		return nil, err
	}
	return priv, nil
}

// decodeOnePEM accepts exactly one PEM block with only white space around it.
func decodeOnePEM(data []byte) (*pem.Block, error) {
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("%w: %d bytes (at most %d)", ErrKeyTooLarge, len(data), MaxKeyFileSize)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, ErrEmptyKey
	}
	if bytes.HasPrefix(data, []byte("ssh-")) {
		return nil, fmt.Errorf("%w: this looks like an OpenSSH public key; convert it with ssh-keygen -e -m PKCS8 -f key.pub", ErrNotPEM)
	}
	if !bytes.HasPrefix(data, []byte("-----BEGIN ")) {
		return nil, ErrNotPEM
	}
	block, rest := pem.Decode(data)
	if block == nil {
		// A key pasted on one line, or with spaces for line breaks, as web
		// forms and Twilio's own example do.
		if block = reflowPEM(data); block == nil {
			return nil, fmt.Errorf("%w (the BEGIN/END lines or the base64 between them are damaged)", ErrNotPEM)
		}
		rest = nil
	} else if bytes.Count(data[:len(data)-len(rest)], []byte("-----BEGIN ")) > 1 {
		// pem.Decode skipped a damaged block to reach this one.
		return nil, fmt.Errorf("%w (a damaged PEM block precedes the key)", ErrNotPEM)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		if b, _ := pem.Decode(rest); b != nil {
			return nil, fmt.Errorf("%w (found a second PEM block)", ErrTrailingData)
		}
		return nil, ErrTrailingData
	}
	return block, nil
}

var onePEM = regexp.MustCompile(`^-----BEGIN ([A-Z0-9 ]{1,40})-----([A-Za-z0-9+/=\s]*)-----END ([A-Z0-9 ]{1,40})-----$`)

// reflowPEM reads a single PEM block whose line breaks were lost or replaced
// by spaces. It returns nil unless the whole input is exactly one such block
// with matching BEGIN and END types and valid base64.
func reflowPEM(data []byte) *pem.Block {
	m := onePEM.FindSubmatch(data)
	if m == nil || !bytes.Equal(m[1], m[3]) {
		return nil
	}
	b64 := strings.Join(strings.Fields(string(m[2])), "")
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(der) == 0 {
		return nil
	}
	return &pem.Block{Type: string(m[1]), Bytes: der}
}

func checkRSAPublic(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 || pub.N.Bit(0) == 0 {
		return fmt.Errorf("%w: the RSA modulus is not a positive odd number", ErrMalformedKey)
	}
	switch bits := pub.N.BitLen(); {
	case bits < MinRSABits:
		return fmt.Errorf("%w (got %d bits; make a new one with convoseal keygen or openssl genrsa -out private_key.pem 2048)", ErrKeyTooSmall, bits)
	case bits > MaxRSABits:
		return fmt.Errorf("%w (got %d bits)", ErrKeyTooBig, bits)
	}
	if pub.E != RSAExponent {
		return fmt.Errorf("%w (got %d)", ErrUnusualExponent, pub.E)
	}
	return nil
}

func keyTypeName(k any) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		return "an ECDSA " + k.Curve.Params().Name + " key"
	case *ecdsa.PrivateKey:
		return "an ECDSA " + k.Curve.Params().Name + " key"
	case ed25519.PublicKey, ed25519.PrivateKey, *ed25519.PrivateKey:
		return "an Ed25519 key"
	case *ecdh.PublicKey, *ecdh.PrivateKey:
		return "an X25519 key"
	default:
		if t := fmt.Sprintf("%T", k); strings.Contains(t, "dsa.") {
			return "a DSA key"
		}
		return fmt.Sprintf("a %T key", k)
	}
}

// unsupportedAlgorithm maps x509's "unknown algorithm" errors (DSA, Ed448,
// X448, …) to ErrUnsupportedKeyType.
func unsupportedAlgorithm(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	msg := err.Error()
	if strings.Contains(msg, "unknown public key algorithm") || strings.Contains(msg, "unknown algorithm") {
		return fmt.Errorf("%w: got a key of an algorithm other than RSA (DSA, Ed448 or X448?)", ErrUnsupportedKeyType), true
	}
	return nil, false
}
