// Command benchdecrypt measures how many sealed artifacts per second one core
// decrypts on the customer side. scripts/bench-decrypt.sh runs it next to
// `openssl speed` and a tuned Python loop (scripts/bench-decrypt.py) on the
// same artifacts.
//
//	benchdecrypt gen -dir D [-n 2000 -bits 2048 -size 1024]
//	benchdecrypt run -dir D [-seconds 10 -parallel 1 -cpuprofile F]
//
// gen writes D/private_key.pem and D/artifacts.jsonl (0600; D is created
// 0700): n artifacts sealed by package seal for a fresh key, each a JSON
// object with the envelope metadata as a download carries it (base64
// x-amz-key and x-amz-iv), the body (base64) and the SHA-256 of the
// plaintext. The key is a throwaway made for the benchmark.
//
// run loads the key once, holds every artifact in memory, and then, until
// the time is up, decrypts them in turn the way a customer's tool does per
// download: seal.ParseMetadata on the two headers (base64 decoding) and
// seal.Open (RSA-OAEP unwrap and AES-256-GCM). It checks every plaintext's
// digest once, before timing, and prints one line of key=value pairs:
// backend, artifacts, wall and CPU seconds (getrusage of the process), and
// artifacts per second by each. CONVOSEAL_CRYPTO=go selects crypto/rsa.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/convoseal/convoseal/seal"
)

type artifact struct {
	Key    string `json:"key"`
	IV     string `json:"iv"`
	Body   string `json:"body"`
	SHA256 string `json:"sha256"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchdecrypt gen|run -dir D [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q (want gen or run)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchdecrypt:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	dir := fs.String("dir", "", "output directory (created 0700)")
	n := fs.Int("n", 2000, "number of artifacts")
	bits := fs.Int("bits", 2048, "RSA key size")
	size := fs.Int("size", 1024, "plaintext bytes per artifact")
	fs.Parse(args)
	if *dir == "" || *n < 1 || *size < 0 {
		return errors.New("gen needs -dir, -n ≥ 1 and -size ≥ 0")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	priv, err := rsa.GenerateKey(rand.Reader, *bits)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(*dir, "private_key.pem"), keyPEM, 0o600); err != nil {
		return err
	}
	r, err := seal.NewRSARecipient(&priv.PublicKey)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	pt := make([]byte, *size)
	for range *n {
		rand.Read(pt)
		body, env, err := seal.Seal(r, pt)
		if err != nil {
			return err
		}
		meta := env.Metadata()
		sum := sha256.Sum256(pt)
		if err := enc.Encode(artifact{Key: meta[seal.MetaKey], IV: meta[seal.MetaIV],
			Body: base64.StdEncoding.EncodeToString(body), SHA256: hex.EncodeToString(sum[:])}); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(*dir, "artifacts.jsonl"), out.Bytes(), 0o600)
}

// loaded is an artifact as a tool holds it after the download: the two
// headers still base64, the body raw.
type loaded struct {
	meta map[string]string
	body []byte
	sum  []byte
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	dir := fs.String("dir", "", "directory written by gen")
	seconds := fs.Float64("seconds", 10, "minimum timed duration")
	parallel := fs.Int("parallel", 1, "goroutines decrypting concurrently (one identity shared)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed part to this file")
	fs.Parse(args)
	if *dir == "" || *parallel < 1 {
		return errors.New("run needs -dir and -parallel ≥ 1")
	}
	keyPEM, err := os.ReadFile(filepath.Join(*dir, "private_key.pem"))
	if err != nil {
		return err
	}
	priv, err := seal.ParsePrivateKey(keyPEM, nil)
	clear(keyPEM)
	if err != nil {
		return err
	}
	id, err := seal.NewRSAIdentity(priv)
	if err != nil {
		return err
	}
	arts, err := readArtifacts(filepath.Join(*dir, "artifacts.jsonl"))
	if err != nil {
		return err
	}
	// Correctness first, untimed; it also loads the key into libcrypto.
	for i, a := range arts {
		pt, err := openOne(id, a)
		if err != nil {
			return fmt.Errorf("artifact %d: %w", i, err)
		}
		if s := sha256.Sum256(pt); !bytes.Equal(s[:], a.sum) {
			return fmt.Errorf("artifact %d: plaintext digest mismatch", i)
		}
	}
	if *cpuprofile != "" {
		f, err := os.OpenFile(*cpuprofile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	runtime.GC()
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	var done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	cpu0, wall0 := cpuTime(), time.Now()
	var wg sync.WaitGroup
	for w := range *parallel {
		wg.Go(func() {
			for i := w; ; i += *parallel {
				if _, err := openOne(id, arts[i%len(arts)]); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				if done.Add(1)%64 == 0 && time.Now().After(deadline) {
					return
				}
			}
		})
	}
	wg.Wait()
	wall, cpu := time.Since(wall0).Seconds(), (cpuTime() - cpu0).Seconds()
	if firstErr != nil {
		return firstErr
	}
	n := float64(done.Load())
	fmt.Printf("impl=go backend=%q identity=%s parallel=%d gomaxprocs=%d artifacts=%d wall_s=%.3f cpu_s=%.3f per_wall_s=%.1f per_cpu_s=%.1f\n",
		seal.RSABackend(), id.Backend(), *parallel, runtime.GOMAXPROCS(0), done.Load(), wall, cpu, n/wall, n/cpu)
	return nil
}

func openOne(id seal.Identity, a loaded) ([]byte, error) {
	env, err := seal.ParseMetadata(a.meta)
	if err != nil {
		return nil, err
	}
	return seal.Open(id, a.body, env)
}

func readArtifacts(path string) ([]loaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []loaded
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var a artifact
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, len(out)+1, err)
		}
		body, err := base64.StdEncoding.DecodeString(a.Body)
		if err != nil {
			return nil, err
		}
		sum, err := hex.DecodeString(a.SHA256)
		if err != nil {
			return nil, err
		}
		out = append(out, loaded{
			meta: map[string]string{seal.HeaderPrefix + seal.MetaKey: a.Key, seal.HeaderPrefix + seal.MetaIV: a.IV},
			body: body, sum: sum,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no artifacts", path)
	}
	return out, nil
}

// cpuTime is the user + system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
