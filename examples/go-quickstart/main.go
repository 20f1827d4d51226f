// Command go-quickstart points the official twilio-go SDK at convoseal:
// it registers a public key, creates a Service that encrypts with it,
// submits a transcript as an inline JSON document, waits for it and prints
// the location of the encrypted sentences.
//
// Environment: CONVOSEAL_URL (default http://localhost:8080),
// TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and CONVOSEAL_PUBLIC_KEY (the PEM
// file of your public key, default public_key.pem).
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	accounts "github.com/twilio/twilio-go/rest/accounts/v1"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// toConvoseal sends the SDK's requests for intelligence.twilio.com and
// accounts.twilio.com to convoseal instead.
type toConvoseal struct {
	target *url.URL
	base   http.RoundTripper
}

func (rt toConvoseal) RoundTrip(r *http.Request) (*http.Response, error) {
	if h := r.URL.Hostname(); h == "intelligence.twilio.com" || h == "accounts.twilio.com" {
		r = r.Clone(r.Context())
		r.URL.Scheme = rt.target.Scheme
		r.URL.Host = rt.target.Host
		r.URL.Path = strings.TrimSuffix(rt.target.Path, "/") + r.URL.Path
		r.Host = rt.target.Host
	}
	return rt.base.RoundTrip(r)
}

// newClient returns the official client, sending its requests to convoseal.
func newClient(convosealURL, sid, token string) (*twilio.RestClient, error) {
	target, err := url.Parse(convosealURL)
	if err != nil || target.Host == "" {
		return nil, fmt.Errorf("CONVOSEAL_URL %q is not an absolute URL", convosealURL)
	}
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient: &http.Client{
			Timeout:   30 * time.Second,
			Transport: toConvoseal{target: target, base: http.DefaultTransport},
		},
	}
	c.SetAccountSid(sid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Username: sid, Password: token, Client: c}), nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "go-quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	base := envOr("CONVOSEAL_URL", "http://localhost:8080")
	sid, token := os.Getenv("TWILIO_ACCOUNT_SID"), os.Getenv("TWILIO_AUTH_TOKEN")
	if sid == "" || token == "" {
		return errors.New("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	}
	c, err := newClient(base, sid, token)
	if err != nil {
		return err
	}

	// 1. Register your public key.
	keyFile := envOr("CONVOSEAL_PUBLIC_KEY", "public_key.pem")
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("read public key: %w", err)
	}
	kp := &accounts.CreateCredentialPublicKeyParams{}
	kp.SetPublicKey(string(pem)).SetFriendlyName("quick start key")
	key, err := c.AccountsV1.CreateCredentialPublicKey(kp)
	if err != nil {
		return fmt.Errorf("register public key: %w", err)
	}

	// 2. Create a Service that encrypts everything with it.
	sp := &intelligence.CreateServiceParams{}
	sp.SetUniqueName(fmt.Sprintf("go-quickstart-%d", time.Now().UnixNano())).SetEncryptionCredentialSid(*key.Sid)
	svc, err := c.IntelligenceV2.CreateService(sp)
	if err != nil {
		return fmt.Errorf("create service: %w", err)
	}

	// 3. Submit a transcript: here an inline JSON document of sentences.
	doc, err := json.Marshal(map[string]any{"sentences": []map[string]any{
		{"media_channel": 1, "start_time": 0.0, "end_time": 2.0, "transcript": "Hello from the Go quick start."},
		{"media_channel": 2, "start_time": 2.2, "end_time": 4.0, "transcript": "Encrypted before it is stored."},
	}})
	if err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	tp := &intelligence.CreateTranscriptParams{}
	tp.SetServiceSid(*svc.Sid).SetChannel(map[string]any{"media_properties": map[string]any{
		"media_url": "data:application/json;base64," + base64.StdEncoding.EncodeToString(doc),
	}})
	tr, err := c.IntelligenceV2.CreateTranscript(tp)
	if err != nil {
		return fmt.Errorf("create transcript: %w", err)
	}

	// 4. Wait until it is completed.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		got, err := c.IntelligenceV2.FetchTranscript(*tr.Sid)
		if err != nil {
			return fmt.Errorf("fetch transcript: %w", err)
		}
		if *got.Status == "completed" {
			break
		}
		if *got.Status == "failed" || time.Now().After(deadline) {
			return fmt.Errorf("transcript %s is %s", *tr.Sid, *got.Status)
		}
	}

	// 5. Fetch the encrypted sentences: a short-lived URL of the sealed artifact.
	enc, err := c.IntelligenceV2.FetchEncryptedSentences(*tr.Sid, &intelligence.FetchEncryptedSentencesParams{})
	if err != nil {
		return fmt.Errorf("fetch encrypted sentences: %w", err)
	}
	fmt.Println("transcript:", *tr.Sid)
	fmt.Println(*enc.Location)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
