package httpretry

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const limit = 30 * time.Second
	for h, want := range map[string]time.Duration{
		"": 0, "  ": 0, "0": 0, "-5": 0, "soon": 0,
		"7": 7 * time.Second, " 7 ": 7 * time.Second,
		"30": limit, "31": limit, "99999999999999999": limit,
		now.Add(10 * time.Second).Format(http.TimeFormat): 10 * time.Second,
		now.Add(time.Hour).Format(http.TimeFormat):        limit,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := RetryAfter(h, now, limit); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}
