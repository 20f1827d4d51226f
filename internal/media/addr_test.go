package media

import (
	"net/netip"
	"testing"
)

// TestForbiddenReason pins the address policy. Documentation, benchmarking
// and other special-purpose ranges are refused along with private ones:
// nothing legitimate serves media from them.
func TestForbiddenReason(t *testing.T) {
	tests := []struct {
		addr      string
		forbidden bool
	}{
		// IPv4 public
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"93.184.216.34", false},
		{"172.15.255.255", false},
		{"172.32.0.0", false},
		{"100.63.255.255", false},
		{"100.128.0.0", false},
		{"192.169.0.1", false},
		{"223.255.255.255", false},
		// IPv4 refused
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"10.0.0.1", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"169.254.0.1", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"192.0.0.170", true},
		{"192.0.2.1", true},
		{"198.51.100.1", true},
		{"203.0.113.1", true},
		{"198.18.0.1", true},
		{"192.88.99.1", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
		// IPv6 public
		{"2001:4860:4860::8888", false},
		{"2606:4700:4700::1111", false},
		{"2a00:1450:4001:80b::200e", false},
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", false},  // 6to4 of 8.8.8.8
		{"::ffff:8.8.8.8", false},   // IPv4-mapped public
		{"2001:200::1", false},      // just outside 2001::/23
		// IPv6 refused
		{"::", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:100.64.0.1", true},
		{"::ffff:0.0.0.0", true},
		{"::127.0.0.1", true}, // deprecated IPv4-compatible
		{"::ffff:0:7f00:1", true},
		{"64:ff9b::7f00:1", true},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", true}, // NAT64 of 169.254.169.254
		{"64:ff9b:1::8.8.8.8", true}, // NAT64 local-use
		{"2002:7f00:1::", true},      // 6to4 of 127.0.0.1
		{"2002:a00:1::1", true},      // 6to4 of 10.0.0.1
		{"2002:a9fe:a9fe::", true},   // 6to4 of 169.254.169.254
		{"2001::1", true},            // Teredo
		{"2001:db8::1", true},        // documentation
		{"3fff::1", true},            // documentation (RFC 9637)
		{"100::1", true},             // discard-only
		{"fc00::1", true},
		{"fd00::1", true},
		{"fd12:3456:789a::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"febf::1", true},
		{"fec0::1", true},
		{"ff02::1", true},
		{"ff0e::1", true},
		{"4000::1", true}, // not allocated for global unicast
		{"5f00::1", true}, // SRv6 SIDs
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.addr)
		reason := forbiddenReason(ip)
		if got := reason != ""; got != tt.forbidden {
			t.Errorf("forbiddenReason(%s) = %q, want forbidden=%v", tt.addr, reason, tt.forbidden)
		}
	}
	if forbiddenReason(netip.Addr{}) == "" {
		t.Error("the invalid zero Addr must be forbidden")
	}
}

func TestForbiddenHostname(t *testing.T) {
	tests := []struct {
		host      string
		forbidden bool
	}{
		{"example.com", false},
		{"media.example.com.", false},
		{"cdn.local-media.net", false},
		{"localhost", true},
		{"LOCALHOST.", true},
		{"foo.localhost", true},
		{"metadata", true},
		{"metadata.google.internal", true},
		{"METADATA.GOOGLE.INTERNAL.", true},
		{"printer.local", true},
		{"nas.home.arpa", true},
		{"box.localdomain", true},
		{"intranet", true},
		{"", true},
		{".", true},
		{"2130706433", true},
		{"127.1", true},
		{"0177.0.0.1", true},
		{"0x7f.1", true},
		{"1.2.3.4.5", true},
		{"123.example.com", false},
		{"example.0xcom", true},
	}
	for _, tt := range tests {
		reason := forbiddenHostname(tt.host)
		if got := reason != ""; got != tt.forbidden {
			t.Errorf("forbiddenHostname(%q) = %q, want forbidden=%v", tt.host, reason, tt.forbidden)
		}
	}
}
