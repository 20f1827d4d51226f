package pipeline

import (
	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/seal"
)

// sealFor seals plaintext for r, to be stored under key. What is sealed with
// the server key (a *seal.KEK) is bound to its place: the transcript's
// account and SID and the key, which names the artifact's kind, operator,
// redaction variant and area (see keyring.ObjectBinding). Customer-key
// artifacts keep the documented format, without additional data.
func sealFor(r seal.Recipient, t *convoseal.Transcript, key string, plaintext []byte) ([]byte, seal.Envelope, error) {
	if _, ok := r.(*seal.KEK); ok {
		return seal.SealBound(r, plaintext, keyring.ObjectBinding(t.AccountSID, t.SID, key).AAD())
	}
	return seal.Seal(r, plaintext)
}

// fetchURL is the URL to fetch a transcript's media from: its full URL,
// sealed apart when it carries secrets, or MediaURL as it is (no secrets, or
// created by an earlier version).
func (p *Pipeline) fetchURL(t *convoseal.Transcript) (string, error) {
	if t.MediaURLSealed == "" {
		return t.MediaURL, nil
	}
	u, err := p.Keys.OpenSecret(keyring.MediaURLBinding(t.AccountSID, t.SID), t.MediaURLSealed)
	if err != nil {
		return "", &permanentError{reason: "the stored media URL cannot be opened with the server key"}
	}
	return u, nil
}
