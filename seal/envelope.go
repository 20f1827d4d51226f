package seal

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Metadata keys, as stored on an object (a download carries each with the
// prefix [HeaderPrefix]).
const (
	MetaKey     = "x-amz-key"       // base64(wrapped CEK); read by the documented script
	MetaIV      = "x-amz-iv"        // base64(IV); read by the documented script
	MetaCEKAlg  = "x-amz-cek-alg"   // "AES/GCM/NoPadding"
	MetaWrapAlg = "x-amz-wrap-alg"  // "RSA-OAEP-SHA256" or "A256GCMKW"
	MetaTagLen  = "x-amz-tag-len"   // "128"
	MetaMatDesc = "x-amz-matdesc"   // JSON naming the credential SID and key fingerprint
	MetaAAD     = "x-convoseal-aad" // [AADBound] when the content was sealed with additional data

	// HeaderPrefix is what S3 (and convoseal's blob server) puts before user
	// metadata keys in HTTP response headers.
	HeaderPrefix = "x-amz-meta-"
)

// maxWrappedKey bounds the wrapped key accepted from outside: an 8192-bit RSA
// ciphertext is 1024 bytes.
const maxWrappedKey = 1024

// Envelope is everything besides the body that is needed to open an artifact.
// It maps to and from S3-style object metadata with [Envelope.Metadata] and
// [ParseMetadata].
type Envelope struct {
	WrappedKey []byte // CEK wrapped for the recipient
	IV         []byte // 12-byte GCM nonce
	CEKAlg     string // [CEKAlgAESGCM]; empty in minimal metadata
	WrapAlg    string // [WrapAlgRSAOAEP] or [WrapAlgAESGCMKEK]; empty in minimal metadata
	TagLen     int    // tag length in bits (128); 0 in minimal metadata
	// AAD is [AADBound] when the content's GCM additional data is the
	// caller's binding (see [SealBound]); empty when there is none, as in
	// customer-key artifacts and in what earlier versions sealed.
	AAD string

	// Descriptive extras, carried in x-amz-matdesc. Never required to open.
	Fingerprint   string // fingerprint of the recipient's key
	CredentialSID string // CR… SID of the customer's public key, when there is one
}

type matDesc struct {
	CredentialSID string `json:"credential_sid,omitempty"`
	Fingerprint   string `json:"fingerprint,omitempty"`
}

// Metadata returns the envelope as object metadata (keys without [HeaderPrefix]).
func (e Envelope) Metadata() map[string]string {
	m := map[string]string{
		MetaKey: base64.StdEncoding.EncodeToString(e.WrappedKey),
		MetaIV:  base64.StdEncoding.EncodeToString(e.IV),
	}
	if e.CEKAlg != "" {
		m[MetaCEKAlg] = e.CEKAlg
	}
	if e.WrapAlg != "" {
		m[MetaWrapAlg] = e.WrapAlg
	}
	if e.TagLen != 0 {
		m[MetaTagLen] = strconv.Itoa(e.TagLen)
	}
	if e.AAD != "" {
		m[MetaAAD] = e.AAD
	}
	if e.Fingerprint != "" || e.CredentialSID != "" {
		b, _ := json.Marshal(matDesc{CredentialSID: e.CredentialSID, Fingerprint: e.Fingerprint})
		m[MetaMatDesc] = string(b)
	}
	return m
}

// SetHeaders writes the envelope into h as x-amz-meta-* response headers.
func (e Envelope) SetHeaders(h http.Header) {
	for k, v := range e.Metadata() {
		h.Set(HeaderPrefix+k, v)
	}
}

// ParseMetadata reads an envelope from object metadata. Keys are matched
// without regard to case, with or without the [HeaderPrefix]. Only x-amz-key
// and x-amz-iv are required; the extras are checked when present.
func ParseMetadata(meta map[string]string) (Envelope, error) {
	m := collectMeta(meta)
	var e Envelope
	key, ok := m.get(MetaKey)
	if !ok {
		return Envelope{}, fmt.Errorf("%w: %s%s is missing", ErrMalformedEnvelope, HeaderPrefix, MetaKey)
	}
	iv, ok := m.get(MetaIV)
	if !ok {
		return Envelope{}, fmt.Errorf("%w: %s%s is missing", ErrMalformedEnvelope, HeaderPrefix, MetaIV)
	}
	var err error
	if e.WrappedKey, err = DecodeBase64(MetaKey, key); err != nil {
		return Envelope{}, err
	}
	if e.IV, err = DecodeBase64(MetaIV, iv); err != nil {
		return Envelope{}, err
	}
	e.CEKAlg, _ = m.get(MetaCEKAlg)
	e.WrapAlg, _ = m.get(MetaWrapAlg)
	e.AAD, _ = m.get(MetaAAD)
	if s, ok := m.get(MetaTagLen); ok {
		if e.TagLen, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
			return Envelope{}, fmt.Errorf("%w: %s is not a number", ErrMalformedEnvelope, MetaTagLen)
		}
	}
	if s, ok := m.get(MetaMatDesc); ok && s != "" {
		var md matDesc
		if err := json.Unmarshal([]byte(s), &md); err != nil {
			return Envelope{}, fmt.Errorf("%w: %s is not JSON", ErrMalformedEnvelope, MetaMatDesc)
		}
		e.Fingerprint, e.CredentialSID = md.Fingerprint, md.CredentialSID
	}
	if dup := m.dup(); dup != "" {
		return Envelope{}, fmt.Errorf("%w: %s is given twice with different values", ErrMalformedEnvelope, dup)
	}
	return e, e.validate()
}

// envelopeKeys are the metadata keys ParseMetadata reads, in the order it
// reads them.
var envelopeKeys = [...]string{MetaKey, MetaIV, MetaCEKAlg, MetaWrapAlg, MetaAAD, MetaTagLen, MetaMatDesc}

// envelopeMeta is the envelope's entries of a metadata map, found in one
// pass over it.
type envelopeMeta struct {
	val   [len(envelopeKeys)]string
	found [len(envelopeKeys)]bool
	dups  [len(envelopeKeys)]bool // given twice with different values
}

// collectMeta matches meta's keys without regard to case, with or without
// HeaderPrefix.
func collectMeta(meta map[string]string) (m envelopeMeta) {
	for k, v := range meta {
		lk := strings.TrimPrefix(strings.ToLower(k), HeaderPrefix)
		for i, key := range envelopeKeys {
			if lk != key {
				continue
			}
			if m.found[i] && m.val[i] != v {
				m.dups[i] = true
			}
			m.val[i], m.found[i] = v, true
			break
		}
	}
	return m
}

func (m *envelopeMeta) get(key string) (string, bool) {
	for i, k := range envelopeKeys {
		if k == key {
			return m.val[i], m.found[i]
		}
	}
	return "", false
}

// dup names the last key, in reading order, given twice with different
// values, or is empty.
func (m *envelopeMeta) dup() string {
	for i := len(envelopeKeys) - 1; i >= 0; i-- {
		if m.dups[i] {
			return envelopeKeys[i]
		}
	}
	return ""
}

// ParseHeaders reads an envelope from the x-amz-meta-* headers of a download.
func ParseHeaders(h http.Header) (Envelope, error) {
	meta := make(map[string]string)
	for k, vs := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, HeaderPrefix) && len(vs) > 0 {
			meta[lk] = vs[0]
		}
	}
	return ParseMetadata(meta)
}

// DecodeBase64 decodes a standard-alphabet base64 value (padding optional,
// surrounding white space ignored), naming field in its error.
func DecodeBase64(field, s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: %s is empty", ErrMalformedEnvelope, field)
	}
	if len(s) > 4*maxWrappedKey {
		return nil, fmt.Errorf("%w: %s is too long (%d characters)", ErrMalformedEnvelope, field, len(s))
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not valid base64", ErrMalformedEnvelope, field)
	}
	return b, nil
}

func (e Envelope) validate() error {
	switch {
	case len(e.IV) != IVSize:
		return fmt.Errorf("%w: IV is %d bytes, want %d", ErrMalformedEnvelope, len(e.IV), IVSize)
	case len(e.WrappedKey) == 0:
		return fmt.Errorf("%w: the wrapped key is empty", ErrMalformedEnvelope)
	case len(e.WrappedKey) > maxWrappedKey:
		return fmt.Errorf("%w: the wrapped key is %d bytes, more than any supported key produces", ErrMalformedEnvelope, len(e.WrappedKey))
	case e.CEKAlg != "" && e.CEKAlg != CEKAlgAESGCM:
		return fmt.Errorf("%w: content algorithm %q is not supported (want %s)", ErrMalformedEnvelope, e.CEKAlg, CEKAlgAESGCM)
	case e.TagLen != 0 && e.TagLen != TagSize*8:
		return fmt.Errorf("%w: tag length %d bits is not supported (want %d)", ErrMalformedEnvelope, e.TagLen, TagSize*8)
	case e.AAD != "" && e.AAD != AADBound:
		return fmt.Errorf("%w: additional-data scheme %q is not supported (want %s)", ErrMalformedEnvelope, e.AAD, AADBound)
	}
	return nil
}
