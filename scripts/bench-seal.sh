#!/usr/bin/env bash
# bench-seal.sh — benchmark the sealing core (package seal) on this machine and
# put the figures next to OpenSSL's on the same CPU.
#
# It runs, in one go:
#   1. go test ./seal -run '^$' -bench . -benchmem -count $BENCH_COUNT
#   2. openssl speed, single process (no -multi), for AES-256-GCM at its
#      default block sizes and at 64 KiB / 1 MiB (encrypt and decrypt), and for
#      RSA-2048 (also with AVX-512 IFMA masked off when the CPU has it);
#   3. benchstat (fetched through the Go module proxy) for the medians, falling
#      back to medians computed here when benchstat cannot be had;
# and writes a markdown section (the one in BENCHMARKS.md) to stdout and to
# $BENCH_OUT/report.md. Raw outputs stay in $BENCH_OUT. Progress goes to stderr.
#
# Go against OpenSSL is compared on CPU time by default: the Go benchmarks
# report cpu-ns/op (getrusage of the test process around the timed loop) and
# `openssl speed` divides by CPU user time unless given -elapsed. On a machine
# shared with other work, wall-clock figures also count the time spent waiting
# for a CPU, and that time depends on the neighbours, not on the code.
#
# Environment:
#   BENCH_COUNT      go test -count              (default 5)
#   BENCH_TIME       go test -benchtime          (default 1s)
#   OPENSSL_SECONDS  openssl speed -seconds      (default 3)
#   OPENSSL_ELAPSED  1: openssl divides by wall-clock time (-elapsed) and the
#                    comparison uses Go's wall-clock ns/op; 0: CPU time (default)
#   BENCH_OUT        directory for raw outputs   (default: a new temp dir)
#   BENCHSTAT        benchstat command line, or "none" to skip it
#                    (default: go run golang.org/x/perf/cmd/benchstat@latest)
#   REPORT_ONLY=1    measure nothing: rebuild the report from the raw outputs
#                    of an earlier run in $BENCH_OUT
#
# With the defaults a run takes about 3.5 minutes. Nothing here uses the
# network except `go run …/benchstat@latest` fetching from the Go module proxy.
set -euo pipefail

BENCH_COUNT=${BENCH_COUNT:-5}
BENCH_TIME=${BENCH_TIME:-1s}
OPENSSL_SECONDS=${OPENSSL_SECONDS:-3}
OPENSSL_ELAPSED=${OPENSSL_ELAPSED:-0}
BENCHSTAT=${BENCHSTAT:-go run golang.org/x/perf/cmd/benchstat@latest}
REPORT_ONLY=${REPORT_ONLY:-0}

log() { printf '%s bench-seal: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

for tool in go openssl python3; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
[[ $BENCH_COUNT =~ ^[1-9][0-9]*$ ]] || die "BENCH_COUNT must be a positive integer"
[[ $OPENSSL_SECONDS =~ ^[1-9][0-9]*$ ]] || die "OPENSSL_SECONDS must be a positive integer"

BENCH_OUT=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench-seal.XXXXXX")}
mkdir -p "$BENCH_OUT"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
if [[ $REPORT_ONLY == 1 && ! -s $BENCH_OUT/go-bench.txt ]]; then
	die "REPORT_ONLY=1 needs BENCH_OUT pointing at an earlier run"
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
log "raw output in $BENCH_OUT"

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime | sed 's/.*load average[s]*: //'; }

if [[ $REPORT_ONLY != 1 ]]; then
	# --- machine -------------------------------------------------------------
	{
		echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
		echo "nproc=$(nproc)"
		echo "kernel=$(uname -sr)"
		echo "go=$(go version)"
		echo "openssl=$(openssl version)"
		echo "load_start=$(loadavg)"
	} >"$BENCH_OUT/machine.env"

	# --- Go benchmarks -------------------------------------------------------
	gocmd=(go test ./seal -run '^$' -bench . -benchmem -count "$BENCH_COUNT" -benchtime "$BENCH_TIME")
	gocmd_shown="go test ./seal -run '^\$' -bench . -benchmem -count $BENCH_COUNT -benchtime $BENCH_TIME"
	printf '%s\n' "$gocmd_shown" >"$BENCH_OUT/go.cmd"
	log "running: $gocmd_shown"
	if ! "${gocmd[@]}" >"$BENCH_OUT/go-bench.txt" 2>&1; then
		cat "$BENCH_OUT/go-bench.txt" >&2
		die "go test failed"
	fi
	echo "load_after_go=$(loadavg)" >>"$BENCH_OUT/machine.env"

	# --- OpenSSL -------------------------------------------------------------
	# One process (no -multi), like the single-goroutine Go benchmarks.
	ossl_help=$(openssl speed -help 2>&1 || true)
	has_opt() { grep -q -- "^ *$1 " <<<"$ossl_help"; }
	ossl_common=(-mr -seconds "$OPENSSL_SECONDS")
	if [[ $OPENSSL_ELAPSED == 1 ]]; then
		has_opt -elapsed || die "this openssl speed has no -elapsed"
		ossl_common=(-elapsed "${ossl_common[@]}")
	fi
	: >"$BENCH_OUT/openssl.cmds"
	run_openssl() { # run_openssl NAME [VAR=VALUE...] -- ARGS...
		local name=$1 envs=()
		shift
		while [[ $1 != -- ]]; do
			envs+=("$1")
			shift
		done
		shift
		local shown="openssl speed ${ossl_common[*]} $*"
		if ((${#envs[@]})); then shown="${envs[*]} $shown"; fi
		log "running: $shown"
		printf '%s\t%s\n' "$name" "$shown" >>"$BENCH_OUT/openssl.cmds"
		env "${envs[@]}" openssl speed "${ossl_common[@]}" "$@" >"$BENCH_OUT/openssl-$name.txt" 2>&1 ||
			log "warning: $shown failed (see $BENCH_OUT/openssl-$name.txt)"
	}
	run_openssl gcm-enc -- -evp aes-256-gcm
	if has_opt -bytes; then
		run_openssl gcm-enc-64k -- -bytes 65536 -evp aes-256-gcm
		run_openssl gcm-enc-1m -- -bytes 1048576 -evp aes-256-gcm
	fi
	if has_opt -decrypt; then
		run_openssl gcm-dec -- -decrypt -evp aes-256-gcm
		if has_opt -bytes; then
			run_openssl gcm-dec-64k -- -decrypt -bytes 65536 -evp aes-256-gcm
			run_openssl gcm-dec-1m -- -decrypt -bytes 1048576 -evp aes-256-gcm
		fi
	fi
	run_openssl rsa2048 -- rsa2048
	# OpenSSL 3.0 has an AVX-512 IFMA path for RSA-2048 with CRT
	# (ossl_rsaz_mod_exp_avx512_x2). When the CPU has IFMA, also measure with
	# it masked off (CPUID.(EAX=7):EBX bit 21) to show what the path is worth.
	if grep -qw avx512ifma /proc/cpuinfo 2>/dev/null; then
		run_openssl rsa2048-noifma OPENSSL_ia32cap=:~0x200000 -- rsa2048
	fi
	echo "load_end=$(loadavg)" >>"$BENCH_OUT/machine.env"
fi

# --- medians -----------------------------------------------------------------
median_source="medians computed by bench-seal.sh from the raw go test output"
rm -f "$BENCH_OUT/benchstat.csv" "$BENCH_OUT/benchstat.txt"
if [[ $BENCHSTAT != none ]]; then
	log "running: $BENCHSTAT -format csv go-bench.txt"
	# shellcheck disable=SC2086 # BENCHSTAT is a command line, split on purpose.
	if (cd "$BENCH_OUT" &&
		timeout 300 $BENCHSTAT -format csv go-bench.txt >benchstat.csv 2>benchstat.err &&
		timeout 60 $BENCHSTAT go-bench.txt >benchstat.txt 2>>benchstat.err); then
		median_source="medians from benchstat (golang.org/x/perf/cmd/benchstat)"
	else
		log "warning: no benchstat ($(tail -n1 "$BENCH_OUT/benchstat.err" 2>/dev/null || true)); computing medians here"
		rm -f "$BENCH_OUT/benchstat.csv" "$BENCH_OUT/benchstat.txt"
	fi
fi

# --- report ------------------------------------------------------------------
MEDIAN_SOURCE=$median_source python3 - "$BENCH_OUT" <<'PY' | tee "$BENCH_OUT/report.md"
import os, re, statistics, sys

out = sys.argv[1]
def read(name):
    try:
        with open(os.path.join(out, name)) as f:
            return f.read()
    except FileNotFoundError:
        return ""

machine = dict(l.split("=", 1) for l in read("machine.env").splitlines() if "=" in l)
gocmd = read("go.cmd").strip()
ossl_cmds = [l.split("\t", 1)[1] for l in read("openssl.cmds").splitlines() if "\t" in l]
elapsed = any(" -elapsed " in c for c in ossl_cmds)

# Raw Go results: name (without Benchmark and -GOMAXPROCS) -> unit -> [values].
raw, gocpu = {}, ""
line_re = re.compile(r"^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$")
for line in read("go-bench.txt").splitlines():
    if line.startswith("cpu: "):
        gocpu = line[5:].strip()
    m = line_re.match(line)
    if not m:
        continue
    f = m.group(2).split()
    for v, unit in zip(f[0::2], f[1::2]):
        try:
            raw.setdefault(m.group(1), {}).setdefault(unit, []).append(float(v))
        except ValueError:
            pass
if not raw:
    sys.exit("bench-seal: no benchmark results in go-bench.txt")

# Medians: benchstat's CSV when there is one (it has a section per unit),
# otherwise straight from the raw values.
med = {n: {u: statistics.median(v) for u, v in us.items()} for n, us in raw.items()}
conv = {"sec/op": ("ns/op", 1e9), "cpu-sec/op": ("cpu-ns/op", 1e9), "cpu-ns/op": ("cpu-ns/op", 1),
        "B/s": ("MB/s", 1e-6), "B/op": ("B/op", 1), "allocs/op": ("allocs/op", 1)}
unit = None
for line in read("benchstat.csv").splitlines():
    f = line.split(",")
    if not line.strip():
        unit = None
    elif len(f) >= 3 and f[0] == "" and f[2] == "CI":
        unit = conv.get(f[1])
    elif unit and f[0] not in ("", "geomean"):
        try:
            med.setdefault(re.sub(r"-\d+$", "", f[0]), {})[unit[0]] = float(f[1]) * unit[1]
        except (ValueError, IndexError):
            pass

# The basis of every Go/OpenSSL comparison: CPU time unless openssl ran with -elapsed.
basis = "ns/op" if elapsed or not any("cpu-ns/op" in u for u in med.values()) else "cpu-ns/op"

def g(name, unit):
    return med.get(name, {}).get(unit)
def t(name):
    return g(name, basis)
def spread(name, unit):
    v = raw.get(name, {}).get(unit, [])
    return " ±%.0f%%" % (50 * (max(v) - min(v)) / statistics.median(v)) if len(v) > 1 and statistics.median(v) else ""
def fmt(x, d=0):
    return "n/a" if x is None else "{:,.{}f}".format(x, d)
def ns(name, unit):
    return fmt(g(name, unit)) + spread(name, unit)
def ratio(a, b):
    if a is None or not b:
        return "n/a"
    r = a / b
    return "%.2f" % r if r >= 0.1 else "%.2g" % r
def mbs(name, n):
    x = t(name)
    return n / x * 1e3 if x else None  # 10^6 bytes per second
def ops(name):
    x = t(name)
    return 1e9 / x if x else None
def pct(part, whole):
    return "n/a" if part is None or not whole else "%.0f%%" % (100 * part / whole)

# OpenSSL -mr output. AES: "+H:<block sizes>" then "+F:<i>:<name>:<bytes/s>...";
# RSA: "+F2:<i>:<bits>:<sign/s>:<verify/s>".
def ossl_aes(*names):
    res = {}
    for n in names:
        sizes = None
        for line in read("openssl-%s.txt" % n).splitlines():
            f = line.strip().split(":")
            if f[0] == "+H":
                sizes = [int(x) for x in f[1:]]
            elif f[0] == "+F" and sizes:
                for s, v in zip(sizes, f[3:]):
                    res[s] = float(v) / 1e6
    return res
def ossl_rsa(name):
    for line in read("openssl-%s.txt" % name).splitlines():
        f = line.strip().split(":")
        if f[0] == "+F2" and len(f) >= 5 and f[2] == "2048":
            return float(f[3]), float(f[4])
    return None, None
def closest(table, n):
    if not table:
        return None, None
    s = min(table, key=lambda k: (abs(k - n), -k))
    return s, table[s]
def blk(s):
    return "n/a" if s is None else ("%d KiB" % (s // 1024) if s >= 1024 else "%d B" % s)

enc = ossl_aes("gcm-enc", "gcm-enc-64k", "gcm-enc-1m")
dec = ossl_aes("gcm-dec", "gcm-dec-64k", "gcm-dec-1m")
sign, verify = ossl_rsa("rsa2048")
sign_noifma, _ = ossl_rsa("rsa2048-noifma")
sizes = [("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)]
nruns = len(raw.get("Seal/RSA-2048/1KiB", {}).get("ns/op", []))
cpu_basis = basis == "cpu-ns/op"
B = "CPU" if cpu_basis else "wall"
P = print

P("### Machine and load")
P()
P("| | |")
P("|---|---|")
P("| date | %s |" % machine.get("date", "?"))
P("| CPU | %s (Go reports: %s) |" % (machine.get("cpu", "?"), gocpu or "?"))
P("| nproc | %s |" % machine.get("nproc", "?"))
P("| kernel | %s |" % machine.get("kernel", "?"))
P("| Go | %s |" % machine.get("go", "?"))
P("| OpenSSL | %s |" % machine.get("openssl", "?"))
P("| load average (1/5/15 min) | start %s; after the Go benchmarks %s; end %s |" % (
    machine.get("load_start", "?"), machine.get("load_after_go", "?"), machine.get("load_end", "?")))
P()
P("A load average near or above nproc means other work shared the CPUs during the run: wall-clock figures are then pessimistic, CPU-time figures much less affected.")
P()
P("### Commands")
P()
P("```")
P(gocmd)
for c in ossl_cmds:
    P(c)
P("```")
P()
P("Go: %s, %d runs each; ±x%% is half the min–max range of the runs. `ns/op` is wall-clock time (the testing package's), `CPU ns/op` the test process's user + system CPU time per operation (getrusage around the timed loop, garbage collection included). OpenSSL: one run per figure, one process, %s. Go/OpenSSL ratios use %s time on both sides; MB/s is 10^6 bytes/s." % (
    os.environ.get("MEDIAN_SOURCE", "medians"), nruns,
    "divided by wall-clock time (`-elapsed`)" if elapsed else "divided by CPU user time (its default)", B))
P()

P("### Whole envelope, RSA-2048 recipient")
P()
P("| Go benchmark | ns/op | CPU ns/op | MB/s (%s) | allocs/op | OpenSSL AES-256-GCM alone, MB/s (block) | Go/OpenSSL |" % B)
P("|---|--:|--:|--:|--:|--:|--:|")
for op, table, what in (("Seal", enc, "encrypt"), ("Open", dec or enc, "decrypt" if dec else "encrypt")):
    for label, n in sizes:
        name = "%s/RSA-2048/%s" % (op, label)
        s, o = closest(table, n)
        P("| %s | %s | %s | %s | %s | %s %s (%s) | %s |" % (
            name, ns(name, "ns/op"), ns(name, "cpu-ns/op"), fmt(mbs(name, n), 1), fmt(g(name, "allocs/op")),
            fmt(o), what, blk(s), ratio(mbs(name, n), o)))
P()

P("### AES-256-GCM alone (key expanded once, buffers reused)")
P()
P("| Go benchmark | ns/op | CPU ns/op | Go MB/s (%s) | OpenSSL MB/s (block) | Go/OpenSSL |" % B)
P("|---|--:|--:|--:|--:|--:|")
for op, table, what in (("AESGCMSeal", enc, "encrypt"), ("AESGCMOpen", dec or enc, "decrypt" if dec else "encrypt")):
    for label, n in sizes:
        name = "%s/%s" % (op, label)
        s, o = closest(table, n)
        P("| %s | %s | %s | %s | %s %s (%s) | %s |" % (
            name, ns(name, "ns/op"), ns(name, "cpu-ns/op"), fmt(mbs(name, n)), fmt(o), what, blk(s), ratio(mbs(name, n), o)))
P()
P("Per-artifact AES-GCM set-up for a fresh CEK (`AESGCMKeySetup`: aes.NewCipher + cipher.NewGCM): %s ns/op, %s CPU ns/op." % (
    ns("AESGCMKeySetup", "ns/op"), ns("AESGCMKeySetup", "cpu-ns/op")))
P()

P("### RSA-2048 (wrapping the CEK)")
P()
P("| Go benchmark | ns/op | CPU ns/op | Go ops/s (%s) | OpenSSL figure | OpenSSL ops/s | Go/OpenSSL |" % B)
P("|---|--:|--:|--:|---|--:|--:|")
u = "RSAOAEPUnwrap"
P("| %s (private key, CRT) | %s | %s | %s | `rsa2048` sign/s (private key) | %s | %s |" % (
    u, ns(u, "ns/op"), ns(u, "cpu-ns/op"), fmt(ops(u)), fmt(sign), ratio(ops(u), sign)))
if sign_noifma is not None:
    P("| %s (private key, CRT) | | | | sign/s with AVX-512 IFMA masked off | %s | %s |" % (
        u, fmt(sign_noifma), ratio(ops(u), sign_noifma)))
w = "RSAOAEPWrap"
P("| %s (public key, e = 65537) | %s | %s | %s | `rsa2048` verify/s (public key) | %s | %s |" % (
    w, ns(w, "ns/op"), ns(w, "cpu-ns/op"), fmt(ops(w)), fmt(verify), ratio(ops(w), verify)))
P()
P("`openssl speed` 3.0 has no RSA encrypt/decrypt figure: sign (PKCS #1 v1.5, with blinding) is the same CRT private-key exponentiation as an OAEP decryption, verify the same public-key exponentiation as an OAEP encryption; OAEP's padding adds a few SHA-256 blocks.")
P()

def share_table(whole_name, rows, rest_label):
    whole = t(whole_name)
    parts = [t(name) for _, name in rows]
    if whole is None or None in parts:
        P("(%s: not measured)" % whole_name)
        P()
        return
    rest = whole - sum(parts)
    # The parts ran at other moments than the whole; on a noisy machine their
    # sum can exceed it. Shares are then of the sum of the parts.
    denom = whole if rest >= 0 else sum(parts)
    P("| %s | %s ns | share |" % (whole_name, B))
    P("|---|--:|--:|")
    for (label, name), x in zip(rows, parts):
        P("| %s (`%s`) | %s | %s |" % (label, name, fmt(x), pct(x, denom)))
    if rest >= 0:
        P("| %s | %s | %s |" % (rest_label, fmt(rest), pct(rest, denom)))
        P("| **%s, measured** | **%s** | 100%% |" % (whole_name, fmt(whole)))
    else:
        P("| %s | ≈ 0 | — |" % rest_label)
        P("| **%s, measured** | **%s** | the parts, measured separately, sum to %s (%s more: run-to-run noise); shares are of that sum |" % (
            whole_name, fmt(whole), fmt(sum(parts)), pct(-rest, whole)))
    P()

P("### Where the time goes at 1 KiB (%s-time medians)" % B)
P()
share_table("Seal/RSA-2048/1KiB", [("RSA-OAEP wrap", "RSAOAEPWrap"), ("AES-GCM key set-up", "AESGCMKeySetup"),
                                   ("AES-GCM encrypt 1 KiB", "AESGCMSeal/1KiB")], "rest: CEK/IV generation, allocation, envelope")
share_table("Open/RSA-2048/1KiB", [("RSA-OAEP unwrap", "RSAOAEPUnwrap"), ("AES-GCM key set-up", "AESGCMKeySetup"),
                                   ("AES-GCM decrypt 1 KiB", "AESGCMOpen/1KiB")], "rest: envelope checks, allocation")

P("### Other paths")
P()
P("| Go benchmark | ns/op | CPU ns/op | ops/s (%s) | B/op | allocs/op |" % B)
P("|---|--:|--:|--:|--:|--:|")
for name in ("SealKEK/1KiB", "OpenKEK/1KiB", "Open/RSA-3072/1KiB", "Open/RSA-4096/1KiB",
             "KEMDecap/X25519", "KEMDecap/ML-KEM-768"):
    if name in med:
        P("| %s | %s | %s | %s | %s | %s |" % (name, ns(name, "ns/op"), ns(name, "cpu-ns/op"), fmt(ops(name)),
                                          fmt(g(name, "B/op")), fmt(g(name, "allocs/op"))))
P()
P("SealKEK/OpenKEK wrap the CEK with the server's AES-256-GCM key-encryption key instead of RSA. KEMDecap is not convoseal code: the private-key operation of X25519 and of ML-KEM-768, the KEMs an HPKE recipient would use, for scale against RSAOAEPUnwrap.")
PY

log "done; report in $BENCH_OUT/report.md"
