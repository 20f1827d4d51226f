// Package seal implements the envelope that convoseal uses for every artifact it
// stores: transcripts' sentences and language-operator results.
//
// # Format
//
// Each artifact is sealed independently:
//
//  1. a fresh random 32-byte content-encryption key (CEK) and 12-byte IV;
//  2. body = AES-256-GCM(CEK, IV, plaintext, no associated data), stored as
//     ciphertext || 16-byte tag;
//  3. the CEK is wrapped for one [Recipient]. For a customer's RSA key that is
//     RSAES-OAEP with SHA-256, MGF1-SHA-256 and an empty label ([RSARecipient]);
//     for the server's own key-encryption key it is AES-256-GCM key wrapping
//     ([KEK]).
//  4. the [Envelope] — wrapped key, IV and descriptive extras — travels as S3-style
//     object metadata: x-amz-key = base64(wrapped key), x-amz-iv = base64(IV),
//     plus x-amz-cek-alg, x-amz-wrap-alg, x-amz-tag-len and x-amz-matdesc. A
//     download therefore carries the headers x-amz-meta-x-amz-key and
//     x-amz-meta-x-amz-iv, which is all the documented decryption script reads.
//
// What the server seals with its own key ([KEK]) is also bound to its place:
// [SealBound] uses the caller's description of where the value belongs (see
// internal/keyring.Binding) as the content's GCM additional data and records
// x-convoseal-aad = [AADBound] in the envelope, so a sealed object copied
// to another place no longer opens. Customer-key artifacts keep the format
// above exactly, with no additional data.
//
// The format is byte-compatible with Twilio's Conversational Intelligence
// encryption: the decryption script in Twilio's documentation opens what [Seal]
// produces for an [RSARecipient].
//
// # Decryption backends
//
// [RSAIdentity.Unwrap] — one RSA private-key operation per artifact, nearly
// all the cost of [Open] — runs through the system's OpenSSL 3 libcrypto
// when it can be loaded at run time (no cgo needed), and through Go's
// crypto/rsa otherwise; both give the same results and errors.
// [RSABackend] says which; the environment variable CONVOSEAL_CRYPTO=go
// ([EnvCrypto]) forces crypto/rsa, and the build tag convoseal_nolibcrypto
// leaves the libcrypto code out.
//
// Recipients and identities are interfaces, in the manner of filippo.io/age, so
// that another key type (for example a post-quantum HPKE recipient) can be added
// without changing callers of [Seal] and [Open].
package seal
