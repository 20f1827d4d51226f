#!/usr/bin/env bash
# bench-decrypt.sh — sealed artifacts decrypted per second per core on the
# customer side, in one run on one machine:
#
#   1. the RSA-2048 private-operation floor: openssl speed -mr -seconds S rsa2048
#      (sign/s; the same CRT private-key exponentiation as an OAEP decryption);
#   2. convoseal, Go's crypto/rsa:     CONVOSEAL_CRYPTO=go benchdecrypt run
#   3. convoseal, the system libcrypto: benchdecrypt run (seal's default)
#   4. a tuned Python loop (scripts/bench-decrypt.py, Python's cryptography).
#
# 2–4 open the same N artifacts (1 KiB plaintext, RSA-2048 key) that
# `benchdecrypt gen` seals with package seal: per artifact, base64-decode the
# two headers, RSA-OAEP-SHA256 unwrap, AES-256-GCM decrypt; key loaded once,
# everything in memory, one thread. The four are interleaved ROUNDS times so
# that a change in the machine's load affects all of them alike; the report
# gives medians. "Per core" is per CPU-second of the process (getrusage /
# process_time; openssl speed divides by CPU user time), which stays
# meaningful on a machine shared with other work; wall-clock rates are shown
# too. Then, unless PARALLEL=0, each Go backend once more with one goroutine
# per CPU, and unless PPROF=0 a CPU profile of each Go backend (pprof -top;
# with perf installed also perf's split by shared object, since Go's profiler
# sees the time inside libcrypto only as runtime.cgocall).
#
# Environment (all optional):
#   ROUNDS           interleaved rounds                 (default 3)
#   RUN_SECONDS      seconds per timed loop             (default 8)
#   OPENSSL_SECONDS  openssl speed -seconds             (default 3)
#   N                artifacts                          (default 2000)
#   PARALLEL=0       skip the all-cores runs
#   PPROF=0          skip the profiles
#   BENCH_OUT        directory for raw outputs          (default: a new temp dir)
#
# The artifacts and their throwaway private key are written under $BENCH_OUT
# (0700/0600) and removed at the end. Nothing here uses the network.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
RUN_SECONDS=${RUN_SECONDS:-8}
OPENSSL_SECONDS=${OPENSSL_SECONDS:-3}
N=${N:-2000}
PARALLEL=${PARALLEL:-1}
PPROF=${PPROF:-1}

log() { printf '%s bench-decrypt: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

for tool in go openssl python3; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
python3 -c 'import cryptography' 2>/dev/null || die "python3 lacks the cryptography package"
for v in ROUNDS RUN_SECONDS OPENSSL_SECONDS N; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done

BENCH_OUT=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench-decrypt.XXXXXX")}
mkdir -p "$BENCH_OUT"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
log "raw output in $BENCH_OUT"
arts=$BENCH_OUT/artifacts
trap 'rm -rf "$arts"' EXIT

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true; }
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
	echo "nproc=$(nproc)"
	echo "ifma=$(grep -qw avx512ifma /proc/cpuinfo 2>/dev/null && echo yes || echo no)"
	echo "kernel=$(uname -sr)"
	echo "go=$(go version)"
	echo "openssl=$(openssl version)"
	echo "python=$(python3 -c 'import sys, cryptography; from cryptography.hazmat.backends.openssl import backend; print("Python %s, cryptography %s, %s" % (sys.version.split()[0], cryptography.__version__, backend.openssl_version_text()))')"
	echo "load_start=$(loadavg)"
	echo "rounds=$ROUNDS run_seconds=$RUN_SECONDS openssl_seconds=$OPENSSL_SECONDS n=$N"
} >"$BENCH_OUT/machine.env"

log "building scripts/benchdecrypt"
go build -o "$BENCH_OUT/benchdecrypt" ./scripts/benchdecrypt
bd=$BENCH_OUT/benchdecrypt
log "sealing $N artifacts of 1 KiB for a fresh RSA-2048 key"
"$bd" gen -dir "$arts" -n "$N" -bits 2048 -size 1024

: >"$BENCH_OUT/results.txt"
for r in $(seq 1 "$ROUNDS"); do
	log "round $r/$ROUNDS: openssl speed -mr -seconds $OPENSSL_SECONDS rsa2048"
	openssl speed -mr -seconds "$OPENSSL_SECONDS" rsa2048 >"$BENCH_OUT/openssl-$r.txt" 2>&1
	sed -n 's/^+F2:[0-9]*:2048:\([0-9.]*\):\([0-9.]*\)$/impl=openssl sign_s=\1 verify_s=\2/p' "$BENCH_OUT/openssl-$r.txt" >>"$BENCH_OUT/results.txt"
	log "round $r/$ROUNDS: convoseal, crypto/rsa"
	CONVOSEAL_CRYPTO=go "$bd" run -dir "$arts" -seconds "$RUN_SECONDS" >>"$BENCH_OUT/results.txt"
	log "round $r/$ROUNDS: convoseal, libcrypto"
	CONVOSEAL_CRYPTO=auto "$bd" run -dir "$arts" -seconds "$RUN_SECONDS" >>"$BENCH_OUT/results.txt"
	log "round $r/$ROUNDS: Python loop"
	python3 scripts/bench-decrypt.py "$arts" "$RUN_SECONDS" >>"$BENCH_OUT/results.txt"
done
if [[ $PARALLEL != 0 ]]; then
	for crypto in go auto; do
		log "all cores: convoseal, CONVOSEAL_CRYPTO=$crypto, -parallel $(nproc)"
		CONVOSEAL_CRYPTO=$crypto "$bd" run -dir "$arts" -seconds "$RUN_SECONDS" -parallel "$(nproc)" >>"$BENCH_OUT/results.txt"
	done
fi
: >"$BENCH_OUT/profiles.txt"
if [[ $PPROF != 0 ]]; then
	for crypto in go auto; do
		log "profile: CONVOSEAL_CRYPTO=$crypto"
		CONVOSEAL_CRYPTO=$crypto "$bd" run -dir "$arts" -seconds "$RUN_SECONDS" -cpuprofile "$BENCH_OUT/cpu-$crypto.prof" >"$BENCH_OUT/profile-run-$crypto.txt"
		{
			echo "### CONVOSEAL_CRYPTO=$crypto: go tool pprof -top"
			go tool pprof -top -nodecount=12 "$bd" "$BENCH_OUT/cpu-$crypto.prof" 2>/dev/null | sed -n '/flat%/,$p'
			echo
		} >>"$BENCH_OUT/profiles.txt"
		if command -v perf >/dev/null 2>&1 &&
			CONVOSEAL_CRYPTO=$crypto perf record -q -F 999 -o "$BENCH_OUT/perf-$crypto.data" "$bd" run -dir "$arts" -seconds "$RUN_SECONDS" >/dev/null 2>&1; then
			{
				echo "### CONVOSEAL_CRYPTO=$crypto: perf report --sort dso (the whole process)"
				perf report -i "$BENCH_OUT/perf-$crypto.data" --no-children --sort dso 2>/dev/null | grep '%' | grep -v '^#' | head -n 6
				echo
			} >>"$BENCH_OUT/profiles.txt"
		fi
	done
fi
echo "load_end=$(loadavg)" >>"$BENCH_OUT/machine.env"

python3 - "$BENCH_OUT" <<'PY' | tee "$BENCH_OUT/report.md"
import os, re, shlex, statistics, sys

out = sys.argv[1]
def read(name):
    with open(os.path.join(out, name)) as f:
        return f.read()
machine = dict(l.split("=", 1) for l in read("machine.env").splitlines() if "=" in l and not l.startswith("rounds"))
rows = []
for line in read("results.txt").splitlines():
    rows.append(dict(kv.split("=", 1) for kv in shlex.split(line)))
def series(impl, key, par="1", backend=None):
    return [float(r[key]) for r in rows if r.get("impl") == impl and r.get("parallel", "1") == par
            and (backend is None or r.get("identity") == backend)]
def med(v):
    return statistics.median(v) if v else None
def rng(v):
    return "%s–%s" % (f(min(v)), f(max(v))) if len(v) > 1 else ""
def f(x):
    return "n/a" if x is None else "{:,.0f}".format(x)
def ratio(a, b):
    return "n/a" if a is None or not b else "%.2f" % (a / b)

floor = series("openssl", "sign_s")
go_cpu, go_wall = series("go", "per_cpu_s", backend="go"), series("go", "per_wall_s", backend="go")
lc_cpu, lc_wall = series("go", "per_cpu_s", backend="libcrypto"), series("go", "per_wall_s", backend="libcrypto")
py_cpu, py_wall = series("python", "per_cpu_s"), series("python", "per_wall_s")
F, P = med(floor), med(py_cpu)
lc_backend = next((r["backend"] for r in rows if r.get("identity") == "libcrypto"), "libcrypto")
py = next((r for r in rows if r.get("impl") == "python"), {})

print("| | |")
print("|---|---|")
print("| date | %s |" % machine.get("date"))
print("| CPU | %s, nproc %s, AVX-512 IFMA: %s |" % (machine.get("cpu"), machine.get("nproc"), machine.get("ifma")))
print("| software | %s; %s; %s |" % (machine.get("go"), machine.get("openssl"), machine.get("python")))
print("| load average (1/5/15 min) | start %s; end %s |" % (machine.get("load_start"), machine.get("load_end")))
print()
print("RSA-2048, 1 KiB artifacts; medians of %d interleaved rounds (min–max in brackets); per core = per CPU-second of the process." % len(floor))
print()
print("| one core | artifacts/s per core (CPU) | wall-clock /s | vs OpenSSL floor | vs Python loop |")
print("|---|--:|--:|--:|--:|")
print("| `openssl speed rsa2048` sign/s (the floor; no AES, no padding) | %s (%s) | | 1.00 | %s |" % (f(F), rng(floor), ratio(F, P)))
print("| convoseal, `CONVOSEAL_CRYPTO=go` (crypto/rsa) | %s (%s) | %s | %s | %s |" % (f(med(go_cpu)), rng(go_cpu), f(med(go_wall)), ratio(med(go_cpu), F), ratio(med(go_cpu), P)))
print("| convoseal, default (%s) | %s (%s) | %s | %s | %s |" % (lc_backend, f(med(lc_cpu)), rng(lc_cpu), f(med(lc_wall)), ratio(med(lc_cpu), F), ratio(med(lc_cpu), P)))
print("| Python loop (cryptography %s, %s) | %s (%s) | %s | %s | 1.00 |" % (py.get("cryptography", "?"), py.get("openssl", "?"), f(P), rng(py_cpu), f(med(py_wall)), ratio(P, F)))
print()
par = [r for r in rows if r.get("impl") == "go" and r.get("parallel", "1") != "1"]
if par:
    print("All cores, one process (`-parallel %s`, one identity shared):" % par[0]["parallel"])
    print()
    print("| backend | artifacts/s (wall) | per CPU-second |")
    print("|---|--:|--:|")
    for r in par:
        print("| %s | %s | %s |" % (r["identity"], f(float(r["per_wall_s"])), f(float(r["per_cpu_s"]))))
    print()
prof = read("profiles.txt").strip()
if prof:
    print("Profiles:")
    print()
    print("```")
    print(prof)
    print("```")
PY
log "done; report in $BENCH_OUT/report.md"
