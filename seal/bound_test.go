package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/convoseal/convoseal/seal"
)

// TestSealBound: content the server seals with its own key opens only with
// the additional data it was sealed with; the envelope says so, survives the
// metadata round trip, and cannot be downgraded by dropping that field.
// Content sealed without additional data (earlier versions) still opens.
func TestSealBound(t *testing.T) {
	kek, err := seal.NewKEK(seal.GenerateKEK())
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte(`{"transcript_sid":"GTa","sentences":[]}`)
	here, there := []byte("place A"), []byte("place B")
	body, env, err := seal.SealBound(kek, pt, here)
	if err != nil {
		t.Fatal(err)
	}
	if env.AAD != seal.AADBound || env.WrapAlg != seal.WrapAlgAESGCMKEK {
		t.Fatalf("envelope %+v", env)
	}
	parsed, err := seal.ParseMetadata(env.Metadata())
	if err != nil || parsed.AAD != seal.AADBound {
		t.Fatalf("metadata round trip: %+v, %v", parsed, err)
	}
	if got, err := seal.OpenBound(kek, body, parsed, here); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open in its place: %q, %v", got, err)
	}
	if _, err := seal.OpenBound(kek, body, parsed, there); !errors.Is(err, seal.ErrAuthentication) {
		t.Fatalf("open with another place's additional data: %v", err)
	}
	if _, err := seal.OpenBound(kek, body, parsed, nil); !errors.Is(err, seal.ErrAuthentication) {
		t.Fatalf("open without additional data: %v", err)
	}
	if _, err := seal.Open(kek, body, parsed); err == nil {
		t.Fatal("Open (no additional data) opened bound content")
	}
	stripped := parsed
	stripped.AAD = ""
	if _, err := seal.OpenBound(kek, body, stripped, here); !errors.Is(err, seal.ErrAuthentication) {
		t.Fatalf("downgrade by dropping %s: %v", seal.MetaAAD, err)
	}
	other := env.Metadata()
	other[seal.MetaAAD] = "bound-v9"
	if _, err := seal.ParseMetadata(other); !errors.Is(err, seal.ErrMalformedEnvelope) {
		t.Fatalf("unknown additional-data scheme: %v", err)
	}
	if _, _, err := seal.SealBound(kek, pt, nil); err == nil {
		t.Fatal("SealBound accepted empty additional data")
	}

	// The previous format: no additional data, no field; it opens anywhere.
	oldBody, oldEnv, err := seal.Seal(kek, pt)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := oldEnv.Metadata()[seal.MetaAAD]; ok {
		t.Fatalf("Seal records %s", seal.MetaAAD)
	}
	oldParsed, err := seal.ParseMetadata(oldEnv.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := seal.OpenBound(kek, oldBody, oldParsed, here); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open the previous format: %q, %v", got, err)
	}
}
