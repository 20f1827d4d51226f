package keyring

import (
	"encoding/binary"

	"github.com/convoseal/convoseal/seal"
)

// Kinds of server-sealed values, the first field of a [Binding].
const (
	BindObject    = "object"     // an object in the blob store (artifact, data-logging copy, legacy source)
	BindSource    = "source"     // a transcript's inline media waiting in the database
	BindMediaURL  = "media-url"  // a transcript's full media URL
	BindAuthToken = "auth-token" // an account's auth token, for signing webhooks
)

// Binding is the place a value sealed with the server key belongs to. Its
// canonical encoding ([Binding.AAD]) is the GCM additional data of the
// value, so a sealed value copied to another place (another account's or
// transcript's object or row) fails to open.
type Binding struct {
	Kind          string // BindObject, BindSource, …
	AccountSID    string
	TranscriptSID string // "" for an account's values
	// Name is the blob key for BindObject (it names the kind of artifact,
	// its operator and redaction variant, and the data-logging area); "" for
	// the others.
	Name string
}

// ObjectBinding binds a blob object of a transcript.
func ObjectBinding(accountSID, transcriptSID, key string) Binding {
	return Binding{Kind: BindObject, AccountSID: accountSID, TranscriptSID: transcriptSID, Name: key}
}

// SourceBinding binds a transcript's inline media kept in the database.
func SourceBinding(accountSID, transcriptSID string) Binding {
	return Binding{Kind: BindSource, AccountSID: accountSID, TranscriptSID: transcriptSID}
}

// MediaURLBinding binds a transcript's full media URL.
func MediaURLBinding(accountSID, transcriptSID string) Binding {
	return Binding{Kind: BindMediaURL, AccountSID: accountSID, TranscriptSID: transcriptSID}
}

// aadDomain begins every binding's encoding.
const aadDomain = "convoseal/binding/v1"

// AAD is the canonical encoding of b: the domain string, then each of Kind,
// AccountSID, TranscriptSID and Name, every field (the domain included) as a
// 4-byte big-endian length followed by its bytes. Distinct bindings never
// encode alike.
func (b Binding) AAD() []byte {
	fields := []string{aadDomain, b.Kind, b.AccountSID, b.TranscriptSID, b.Name}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range fields {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// Seal seals plaintext with the current KEK, bound to b.
func (k *Keyring) Seal(b Binding, plaintext []byte) ([]byte, seal.Envelope, error) {
	return seal.SealBound(k.kek, plaintext, b.AAD())
}

// Open opens a value sealed with the current or a previous KEK for b. A
// value an earlier version sealed without binding (its envelope records no
// additional data) opens too; callers check what they can of its content.
func (k *Keyring) Open(b Binding, body []byte, env seal.Envelope) ([]byte, error) {
	return seal.OpenBound(k.ServerIdentity(), body, env, b.AAD())
}

// SealAuthToken seals an account's auth token (kept to sign its webhooks),
// bound to the account.
func SealAuthToken(kek *seal.KEK, accountSID, token string) (string, error) {
	return SealSecret(kek, Binding{Kind: BindAuthToken, AccountSID: accountSID}, token)
}

// OpenAuthToken opens an account's auth token sealed by SealAuthToken (or,
// unbound, by an earlier version).
func (k *Keyring) OpenAuthToken(accountSID, sealed string) (string, error) {
	return k.OpenSecret(Binding{Kind: BindAuthToken, AccountSID: accountSID}, sealed)
}
