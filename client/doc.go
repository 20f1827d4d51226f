// Package client reads transcripts from a convoseal installation (or any
// Twilio-compatible Conversational Intelligence endpoint) and decrypts the
// artifacts sealed with your public key, inside your own Go program. The
// convoseal fetch and pull commands are built on it.
//
// # Credentials
//
// The API takes HTTP Basic authentication with your Account SID and Auth
// Token. Give them in [Options], or leave the fields empty to use
// $TWILIO_ACCOUNT_SID and $TWILIO_AUTH_TOKEN; the API's base URL is
// [Options.BaseURL], else $CONVOSEAL_URL, else Twilio's. Credentials are sent
// only to that host (a next-page link naming another host is followed there,
// path and query only). No error of this package contains the Auth Token or
// a location's signature.
//
//	c, err := client.New(client.Options{
//		BaseURL: "https://convoseal.example.com",
//		Keys:    keys, // see below
//	})
//
// # Keys
//
// When a Service has an EncryptionCredentialSid, everything its transcripts
// produce is sealed with that public key (RSA-OAEP-SHA256 wrapping an
// AES-256-GCM key; see docs/sealing-format.md) and only the matching private
// key opens it. A [Keyring] holds one or more private keys — several when the
// Service's key was rotated — and picks the one whose fingerprint the
// artifact's x-amz-matdesc metadata names, else tries each. Load keys with
// [LoadKeys] from PEM files (PKCS #1, PKCS #8 or passphrase-protected PKCS #8;
// a file may hold several keys) and from an environment variable holding the
// PEM text ([EnvPrivateKey]), or add parsed keys with [Keyring.Add]. Nothing
// here writes a key anywhere.
//
//	keys, err := client.LoadKeys(client.KeySources{
//		Files:      []string{"private_key.pem", "previous_key.pem"},
//		Env:        client.EnvPrivateKey,
//		Passphrase: func(source string) ([]byte, error) { return []byte(os.Getenv("KEY_PASSPHRASE")), nil },
//	})
//
// # Listing
//
// [Client.Transcripts] lists transcripts with the API's filters
// ([ListOptions]: Service, status, language, creation and start dates) as an
// iterator that fetches the next page (meta.next_page_url) only when the loop
// asks for more:
//
//	for t, err := range c.Transcripts(ctx, client.ListOptions{
//		ServiceSID: "GA…", Status: "completed", AfterDateCreated: since,
//	}) {
//		if err != nil { … } // the sequence ends after an error
//		…
//	}
//
// # Fetching and decrypting
//
// [Client.FetchSentences] asks for a transcript's Sentences/Encrypted
// location, downloads it (at most [Options.MaxArtifactSize] bytes) and opens
// it with the keyring; [Client.FetchOperatorResults] does the same for every
// operator result. Redacted picks the redaction variant as the API's
// Redacted parameter does (a transcript made without redaction has only the
// unredacted one). A [Decrypted] holds the plaintext JSON exactly as sealed;
// [Decrypted.Sentences] and [Decrypted.OperatorResult] decode it.
//
//	d, err := c.FetchSentences(ctx, "GT…", true)
//	sentences, err := d.Sentences() // start_time, end_time, media_channel, transcript, words
//
// Requests answered 429 or 5xx, and transport failures, are retried
// ([Options.MaxRetries]) with exponential backoff and jitter, waiting as long
// as a Retry-After header asks. A location answered 403 (its signature
// expired) is replaced by a fresh one from the API, once. Every call takes a
// context and stops when it is done.
//
// # Errors
//
// Test errors with errors.Is and errors.As:
//
//   - [ErrNotFound]: no such transcript (or not your account's);
//   - [ErrNotEncrypted]: the transcript's Service had no customer key: read
//     its plain Sentences and OperatorResults resources instead;
//   - [ErrNotCompleted]: the transcript is still queued or in progress, or failed;
//   - seal.ErrIncorrectIdentity: none of your keys opens the artifact (the
//     message names the key it was sealed for and the keys you gave);
//   - seal.ErrAuthentication: the artifact was modified or truncated;
//   - [ErrTooLarge]: the artifact is larger than the download limit;
//   - [*APIError]: any other answer of the API, with Twilio's error code and
//     message; [*HTTPError]: any other answer of a location.
//
// Package clienttest serves a stand-in API with sealed artifacts, for testing
// code built on this package without an installation.
package client
