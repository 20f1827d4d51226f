package webhook

import (
	"testing"

	"github.com/twilio/twilio-go/client"
)

// The vector from twilio-go's client/request_validator_test.go.
const (
	vectorToken = "12345"
	vectorURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	vectorSig   = "vOEb5UThFn24KEfnOFLQY2AE5FY="
)

var vectorParams = map[string]string{
	"Digits":                "1234",
	"CallSid":               "CA1234567890ABCDE",
	"To":                    "+18005551212",
	"Caller":                "+14158675309",
	"From":                  "+14158675309",
	"ReasonConferenceEnded": "test",
	"Reason":                "Participant",
}

func TestSignKnownVector(t *testing.T) {
	if got := Sign(vectorToken, vectorURL, vectorParams); got != vectorSig {
		t.Fatalf("Sign = %q, want %q", got, vectorSig)
	}
	if got := Sign("54321", vectorURL, vectorParams); got == vectorSig {
		t.Fatal("signature does not depend on the token")
	}
}

func TestSignValidatesWithTwilioGo(t *testing.T) {
	params := map[string]string{"TranscriptSid": "GT123", "Status": "completed", "Empty": ""}
	v := client.NewRequestValidator("tok")
	for _, u := range []string{
		"https://example.com/hook",
		"https://example.com:8443/hook?x=1&y=%20",
		"http://example.com:80/a/b",
	} {
		if !v.Validate(u, params, Sign("tok", u, params)) {
			t.Errorf("POST form signature for %s rejected", u)
		}
		if !v.Validate(u, map[string]string{}, Sign("tok", u, nil)) {
			t.Errorf("GET signature for %s rejected", u)
		}
		if v.Validate(u, params, Sign("other", u, params)) {
			t.Errorf("signature with the wrong token accepted for %s", u)
		}
	}
}
