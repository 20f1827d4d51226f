package media

import (
	"net/url"
	"strings"
)

// MaskedValue replaces each query value in a masked URL.
const MaskedValue = "***"

// MaskURL returns the form of an http(s) media URL that may be stored in
// plain text and shown back to the client: the userinfo ("user:pass@") and
// the fragment are removed, and in the query every value is replaced by
// "***" while keys and their order are kept ("?token=SECRET&a=b" becomes
// "?token=***&a=***"; a part without "=" is itself replaced by "***"). The
// scheme, host and path are kept as given. A URL with none of these parts
// is returned unchanged; one that does not parse as an absolute URL with a
// host becomes "<scheme>://***". The full URL is kept sealed by the caller.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Scheme == "" {
		scheme, _, _ := strings.Cut(raw, ":")
		return strings.ToLower(scheme) + "://" + MaskedValue
	}
	if u.User == nil && u.RawQuery == "" && !strings.Contains(raw, "#") {
		return raw
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			if p == "" {
				continue
			}
			if key, _, ok := strings.Cut(p, "="); ok {
				parts[i] = key + "=" + MaskedValue
			} else {
				parts[i] = MaskedValue
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}
