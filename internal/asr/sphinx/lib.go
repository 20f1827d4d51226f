package sphinx

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Default names of the shared libraries Debian's libpocketsphinx3 installs.
const (
	defaultPocketsphinx = "libpocketsphinx.so.3"
	defaultSphinxbase   = "libsphinxbase.so.3"
)

// installHint is what the operator runs to make recognition available.
const installHint = "apt-get install libpocketsphinx3 pocketsphinx-en-us"

// lib holds the C functions of pocketsphinx 0.8 (5prealpha) and sphinxbase,
// bound at run time with purego so the binary needs no cgo and runs without
// the library for text documents.
type lib struct {
	psArgs       func() uintptr
	cmdLnParseR  func(inout, defn uintptr, argc int32, argv *uintptr, strict int32) uintptr
	cmdLnFreeR   func(cfg uintptr) int32
	errSetLogfp  func(fp uintptr)
	psInit       func(cfg uintptr) uintptr
	psFree       func(ps uintptr) int32
	psStartUtt   func(ps uintptr) int32
	psProcessRaw func(ps uintptr, data *int16, n uintptr, noSearch, fullUtt int32) int32
	psEndUtt     func(ps uintptr) int32
	psGetNFrames func(ps uintptr) int32
	psGetLogmath func(ps uintptr) uintptr
	psSegIter    func(ps uintptr) uintptr
	psSegNext    func(seg uintptr) uintptr
	psSegWord    func(seg uintptr) string
	psSegFrames  func(seg uintptr, sf, ef *int32)
	psSegProb    func(seg uintptr, ascr, lscr, lback *int32) int32
	psSegFree    func(seg uintptr)
	logmathExp   func(lmath uintptr, logp int32) float64
}

var (
	libMu    sync.Mutex
	libCache = map[[2]string]*lib{}
)

// loadLib opens the two libraries (names or paths) once per process.
func loadLib(pocketsphinx, sphinxbase string) (_ *lib, err error) {
	libMu.Lock()
	defer libMu.Unlock()
	key := [2]string{pocketsphinx, sphinxbase}
	if l := libCache[key]; l != nil {
		return l, nil
	}
	// purego.RegisterLibFunc panics on a missing symbol; turn that into an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pocketsphinx library lacks a function: %v", r)
		}
	}()
	sb, err := purego.Dlopen(sphinxbase, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", sphinxbase, err)
	}
	ps, err := purego.Dlopen(pocketsphinx, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", pocketsphinx, err)
	}
	l := &lib{}
	purego.RegisterLibFunc(&l.cmdLnParseR, sb, "cmd_ln_parse_r")
	purego.RegisterLibFunc(&l.cmdLnFreeR, sb, "cmd_ln_free_r")
	purego.RegisterLibFunc(&l.errSetLogfp, sb, "err_set_logfp")
	purego.RegisterLibFunc(&l.logmathExp, sb, "logmath_exp")
	purego.RegisterLibFunc(&l.psArgs, ps, "ps_args")
	purego.RegisterLibFunc(&l.psInit, ps, "ps_init")
	purego.RegisterLibFunc(&l.psFree, ps, "ps_free")
	purego.RegisterLibFunc(&l.psStartUtt, ps, "ps_start_utt")
	purego.RegisterLibFunc(&l.psProcessRaw, ps, "ps_process_raw")
	purego.RegisterLibFunc(&l.psEndUtt, ps, "ps_end_utt")
	purego.RegisterLibFunc(&l.psGetNFrames, ps, "ps_get_n_frames")
	purego.RegisterLibFunc(&l.psGetLogmath, ps, "ps_get_logmath")
	purego.RegisterLibFunc(&l.psSegIter, ps, "ps_seg_iter")
	purego.RegisterLibFunc(&l.psSegNext, ps, "ps_seg_next")
	purego.RegisterLibFunc(&l.psSegWord, ps, "ps_seg_word")
	purego.RegisterLibFunc(&l.psSegFrames, ps, "ps_seg_frames")
	purego.RegisterLibFunc(&l.psSegProb, ps, "ps_seg_prob")
	purego.RegisterLibFunc(&l.psSegFree, ps, "ps_seg_free")
	// The library logs every hypothesis to stderr: recognised customer
	// speech must never reach a log, so logging is switched off for good.
	l.errSetLogfp(0)
	libCache[key] = l
	return l, nil
}

// checkModel verifies that the model files exist before the library is asked
// to load them (its own failure is a NULL with the reason only in its log).
func checkModel(hmm, lm, dict string) error {
	for _, p := range []string{filepath.Join(hmm, "mdef"), filepath.Join(hmm, "means"), lm, dict} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("pocketsphinx model file missing: %w", err)
		}
	}
	return nil
}

// cStrings is a NULL-terminated argv of NUL-terminated strings in Go memory,
// kept reachable by its owner (the decoder) for as long as the library may
// read it; Go's heap does not move objects.
type cStrings struct {
	bufs [][]byte
	ptrs []uintptr
}

func newCStrings(args []string) *cStrings {
	c := &cStrings{}
	for _, a := range args {
		b := append([]byte(a), 0)
		c.bufs = append(c.bufs, b)
		c.ptrs = append(c.ptrs, uintptr(unsafe.Pointer(&b[0])))
	}
	c.ptrs = append(c.ptrs, 0)
	return c
}
