package media

import (
	"net/netip"
	"strings"
)

type prefixRule struct {
	prefix netip.Prefix
	reason string
}

func rules(pairs ...string) []prefixRule {
	out := make([]prefixRule, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, prefixRule{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

// IPv4 ranges that are not publicly routable unicast (IANA special-purpose
// registry). Documentation and benchmarking ranges are refused too: nothing
// legitimate is served from them.
var v4Rules = rules(
	"0.0.0.0/8", "unspecified (this network)",
	"10.0.0.0/8", "private",
	"100.64.0.0/10", "shared address space (CGNAT)",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local (cloud metadata)",
	"172.16.0.0/12", "private",
	"192.0.0.0/24", "IETF protocol assignment",
	"192.0.2.0/24", "documentation",
	"192.88.99.0/24", "6to4 relay anycast",
	"192.168.0.0/16", "private",
	"198.18.0.0/15", "benchmarking",
	"198.51.100.0/24", "documentation",
	"203.0.113.0/24", "documentation",
	"224.0.0.0/4", "multicast",
	"255.255.255.255/32", "broadcast",
	"240.0.0.0/4", "reserved",
)

var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
)

// IPv6 ranges refused outright. Everything outside 2000::/3 (except the
// NAT64 and IPv4-mapped forms, which are judged by the embedded IPv4
// address) is refused as well.
var v6Rules = rules(
	"::/128", "unspecified",
	"::1/128", "loopback",
	"64:ff9b:1::/48", "NAT64 local-use",
	"100::/64", "discard-only",
	"2001:db8::/32", "documentation",
	"2001::/32", "Teredo",
	"2001::/23", "IETF protocol assignment",
	"3fff::/20", "documentation",
	"5f00::/16", "SRv6 SID",
	"fc00::/7", "unique local (private)",
	"fe80::/10", "link-local",
	"fec0::/10", "site-local",
	"ff00::/8", "multicast",
)

// forbiddenReason returns why ip must not be dialed, or "" if it is a public
// unicast address.
func forbiddenReason(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	if ip.Zone() != "" {
		return "scoped address"
	}
	if ip.Is4In6() {
		if r := forbiddenReason4(ip.Unmap()); r != "" {
			return "IPv4-mapped " + r
		}
		return ""
	}
	if ip.Is4() {
		return forbiddenReason4(ip)
	}
	for _, r := range v6Rules {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	b := ip.As16()
	switch {
	case nat64WellKnown.Contains(ip):
		if r := forbiddenReason4(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return "NAT64-embedded " + r
		}
		return ""
	case sixToFour.Contains(ip):
		if r := forbiddenReason4(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
			return "6to4-embedded " + r
		}
		return ""
	case !globalUnicast6.Contains(ip):
		return "reserved (not global unicast)"
	}
	return ""
}

func forbiddenReason4(ip netip.Addr) string {
	for _, r := range v4Rules {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	return ""
}

// internalSuffixes are DNS suffixes that only ever name internal hosts.
var internalSuffixes = []string{
	".localhost",   // RFC 6761
	".local",       // mDNS, RFC 6762
	".internal",    // ICANN private-use TLD; metadata.google.internal
	".home.arpa",   // RFC 8375
	".localdomain", // common resolver default
}

// forbiddenHostname returns why a host name (not an IP literal) is refused
// before it is even resolved, or "". Single-label names ("localhost",
// "metadata", "intranet", "2130706433") are refused because resolvers
// complete them with internal search domains or read them as numbers.
func forbiddenHostname(host string) string {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "" {
		return "empty host name"
	}
	if !strings.Contains(h, ".") {
		return "single-label host name"
	}
	// No top-level domain is numeric: "127.1", "0177.0.0.1" and "0x7f.1"
	// are IPv4 addresses in forms some resolvers (getaddrinfo) accept.
	tld := h[strings.LastIndexByte(h, '.')+1:]
	if strings.HasPrefix(tld, "0x") || strings.Trim(tld, "0123456789") == "" {
		return "numeric host name"
	}
	for _, s := range internalSuffixes {
		if strings.HasSuffix(h, s) {
			return "internal host name"
		}
	}
	return ""
}
