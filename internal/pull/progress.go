package pull

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Snapshot is a pull's progress at one moment.
type Snapshot struct {
	Listing     bool  // the listing is still under way (ToPull may grow)
	Listed      int64 // transcripts listed
	ToPull      int64 // listed, completed and not pulled before: this run's work
	Done        int64 // pulled in this run
	Failed      int64 // could not be pulled (see the summary)
	Skipped     int64 // pulled before (state file or complete folder)
	Pending     int64 // not completed yet: picked up by a later pull
	Unavailable int64 // failed or canceled on the server: no results to pull
	Unencrypted int64 // their Service has no customer key: nothing to decrypt
	Artifacts   int64 // decrypted
	Bytes       int64 // downloaded (sealed artifacts)
	Elapsed     time.Duration
}

// Progress redraws one status line on a terminal, or prints a plain line
// every Interval otherwise, until Stop.
type Progress struct {
	W        io.Writer
	TTY      bool
	Interval time.Duration // 0: 100 ms on a terminal, 2 s otherwise
	Snap     func() Snapshot

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start begins reporting.
func (p *Progress) Start() {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	iv := p.Interval
	if iv <= 0 {
		iv = 2 * time.Second
		if p.TTY {
			iv = 100 * time.Millisecond
		}
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				if p.TTY {
					fmt.Fprintf(p.W, "\r\x1b[K%s\n", BarLine(p.Snap(), 30))
				}
				return
			case <-t.C:
				s := p.Snap()
				if p.TTY {
					fmt.Fprintf(p.W, "\r\x1b[K%s", BarLine(s, 30))
				} else {
					fmt.Fprintln(p.W, PlainLine(s))
				}
			}
		}
	}()
}

// Stop ends reporting (a terminal's line is drawn one last time and ended).
func (p *Progress) Stop() {
	p.once.Do(func() {
		if p.stop != nil {
			close(p.stop)
			<-p.done
		}
	})
}

// PlainLine is a progress line for logs:
//
//	pull: 812/2000 transcripts, 0 failed, 0 skipped, 3248 artifacts, 4.1 MB, 270.3/s, ETA 4s
func PlainLine(s Snapshot) string {
	return fmt.Sprintf("pull: %d/%s transcripts, %d failed, %d skipped, %d artifacts, %s, %s/s, ETA %s",
		s.Done, total(s), s.Failed, s.Skipped, s.Artifacts, FormatBytes(s.Bytes), rate(s), eta(s))
}

// BarLine is the terminal status line, a bar width characters wide.
func BarLine(s Snapshot, width int) string {
	frac := 0.0
	if s.ToPull > 0 {
		frac = float64(s.Done+s.Failed) / float64(s.ToPull)
	}
	if s.Listing {
		frac = 0
	}
	fill := min(int(frac*float64(width)), width)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	if fill > 0 && fill < width {
		bar = strings.Repeat("=", fill-1) + ">" + strings.Repeat(" ", width-fill)
	}
	line := fmt.Sprintf("[%s] %d/%s  %d artifacts  %s  %s/s  ETA %s", bar, s.Done, total(s), s.Artifacts, FormatBytes(s.Bytes), rate(s), eta(s))
	if s.Failed > 0 {
		line += fmt.Sprintf("  %d failed", s.Failed)
	}
	return line
}

func total(s Snapshot) string {
	if s.Listing {
		return fmt.Sprintf("%d+", s.ToPull)
	}
	return fmt.Sprint(s.ToPull)
}

func rate(s Snapshot) string {
	if s.Elapsed <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.1f", float64(s.Done)/s.Elapsed.Seconds())
}

func eta(s Snapshot) string {
	left := s.ToPull - s.Done - s.Failed
	if s.Listing || s.Done == 0 || s.Elapsed <= 0 {
		return "?"
	}
	if left <= 0 {
		return "0s"
	}
	d := time.Duration(float64(left) / (float64(s.Done) / s.Elapsed.Seconds()) * float64(time.Second))
	return d.Round(time.Second).String()
}

// FormatBytes prints a byte count in SI units (kB, MB, GB).
func FormatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	}
}
