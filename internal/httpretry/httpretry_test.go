package httpretry

import (
	"context"
	"errors"
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

func TestBackoff(t *testing.T) {
	const base, limit = 500 * time.Millisecond, 10 * time.Second
	for attempt, want := range map[int]time.Duration{0: base, 1: base, 2: time.Second, 3: 2 * time.Second, 6: limit, 16: limit, 100: limit} {
		for range 20 {
			if d := Backoff(attempt, base, limit); d < want/2 || d > want {
				t.Errorf("Backoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep after cancel: %v", err)
	}
	if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(0) after cancel: %v", err)
	}
}

func TestSameOrigin(t *testing.T) {
	req := func(u string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	check := SameOrigin(nil)
	via := []*http.Request{req("https://a.example/x")}
	if err := check(req("https://a.example/y"), via); err != nil {
		t.Errorf("same origin: %v", err)
	}
	for _, u := range []string{"http://a.example/y", "https://b.example/y", "https://a.example:444/y"} {
		if err := check(req(u), via); err != http.ErrUseLastResponse {
			t.Errorf("%s: %v, want ErrUseLastResponse", u, err)
		}
	}
	long := make([]*http.Request, 10)
	for i := range long {
		long[i] = via[0]
	}
	if err := check(req("https://a.example/y"), long); err == nil {
		t.Error("11th redirect followed")
	}
	stop := errors.New("stop")
	if err := SameOrigin(func(*http.Request, []*http.Request) error { return stop })(req("https://a.example/y"), via); err != stop {
		t.Errorf("next not called: %v", err)
	}
}
