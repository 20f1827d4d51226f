// Package webhook delivers Twilio-style signed webhooks for transcript
// events (voice_intelligence_transcript_available and
// voice_intelligence_transcript_failed) to a Service's WebhookUrl.
//
// Requests are signed exactly as Twilio signs its webhooks, so receivers can
// check them with any Twilio helper library (for example twilio-go's
// client.RequestValidator): the X-Twilio-Signature header is
// base64(HMAC-SHA1(auth token, URL + sorted POST parameters)). POST events
// are sent as application/x-www-form-urlencoded; GET events carry the
// parameters in the query string and only the full URL is signed.
//
// Delivery goes through the SSRF-safe transport of package media, so a
// webhook URL cannot reach loopback, private or metadata addresses unless
// the operator allows it. Logs and errors never contain the auth token, the
// event parameters other than SIDs and statuses, or the URL's userinfo and
// query string.
package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"slices"
)

// SignatureHeader is the header carrying the request signature.
const SignatureHeader = "X-Twilio-Signature"

// Sign returns the X-Twilio-Signature value for a request to url with the
// given POST parameters: base64(HMAC-SHA1(authToken, url + k1 + v1 + k2 +
// v2 ...)) with the parameters sorted by key (byte order). url must be the
// full URL as requested, query string included. For a GET request the
// parameters are part of url's query string, so pass nil params.
//
// This is the form-parameter variant that twilio-go's
// client.RequestValidator.Validate (and ValidateBody for form bodies)
// checks; the JSON-body variant (a bodySHA256 query parameter) is not used.
func Sign(authToken, url string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(url))
	for _, k := range keys {
		mac.Write([]byte(k))
		mac.Write([]byte(params[k]))
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
