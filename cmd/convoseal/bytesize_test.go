package main

import "testing"

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"256MiB": 256 << 20, "1 GiB": 1 << 30, "64kib": 64 << 10, "1000": 1000, "2MB": 2e6, "5B": 5} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1MiB", "1.5MiB", "1TiB", "99999999999GiB"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
	if b := byteSize(256 << 20); b.String() != "256MiB" {
		t.Errorf("String() = %s", b.String())
	}
}
