#!/usr/bin/env bash
# bench-pull.sh — how fast a customer gets 2,000 encrypted transcripts (each
# with sentences and three operator results: 8,000 artifacts) out of a real
# `convoseal serve`, four ways, on this machine, in one run:
#
#   1. convoseal pull -o DIR                (default --parallel: 2 × CPUs)
#   2. convoseal pull -o DIR --parallel 1   (one transcript at a time)
#      and convoseal pull --jsonl > FILE    (one output file: no per-file
#      temporary file, fsync and rename, like the Python loop's plain writes)
#   3. a tuned single-process Python loop using `cryptography`
#      (scripts/benchpull/tuned_loop.py: key loaded once, one kept-alive HTTP
#      connection, each artifact unwrapped, opened and written in turn)
#   4. the documented script (internal/interop/seed_decrypt.py, the seed doc's
#      script with its four constants taken from the environment) run once per
#      artifact as the documentation tells customers, each artifact first
#      downloaded with curl recording its two headers. Only a sample of
#      $DOC_SAMPLE artifacts is timed; the figure for all artifacts is
#      extrapolated from it (and marked so).
#   5. openssl speed -seconds 3 rsa2048: RSA-2048 private operations per
#      second on one core, the floor every approach pays once per artifact.
#
# Then it prints a table (wall time, CPU time of the client process, artifacts
# per second and per client CPU-second), the server's CPU time during each run,
# and where `convoseal pull`'s CPU goes (from a CPU profile of run 1).
#
#   scripts/bench-pull.sh
#   TRANSCRIPTS=500 DOC_SAMPLE=40 scripts/bench-pull.sh
#   OUT_DIR=/tmp/bench-pull scripts/bench-pull.sh   # keep the profile and raw figures
#
# The server runs on the same machine, so every client figure includes
# waiting for it; its CPU time is shown next to each run.
set -euo pipefail
cd "$(dirname "$0")/.."
TRANSCRIPTS=${TRANSCRIPTS:-2000}
DOC_SAMPLE=${DOC_SAMPLE:-100}
OUT_DIR=${OUT_DIR:-}
work=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "$OUT_DIR" ]; then mkdir -p "$OUT_DIR" && cp "$work"/*.prof "$work"/*.json "$work"/*.txt "$work/convoseal" "$OUT_DIR"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "bench-pull: $*" >&2; }

go build -o "$work/convoseal" ./cmd/convoseal
go build -o "$work/pullseed" ./scripts/pullseed
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CONVOSEAL_ACCOUNT_SID=AC$(openssl rand -hex 16) CONVOSEAL_AUTH_TOKEN=$(openssl rand -hex 16)
export TWILIO_ACCOUNT_SID=$CONVOSEAL_ACCOUNT_SID TWILIO_AUTH_TOKEN=$CONVOSEAL_AUTH_TOKEN
export CONVOSEAL_METRICS_ADDR= # no /metrics listener: benchmarks may run side by side
unset CONVOSEAL_PRIVATE_KEY
base="http://127.0.0.1:$port"

openssl genrsa -out "$work/private_key.pem" 2048 2>/dev/null
openssl rsa -in "$work/private_key.pem" -pubout -out "$work/public_key.pem" 2>/dev/null

"$work/convoseal" serve --data "$work/data" --addr "127.0.0.1:$port" --public-url "$base" --log-level warn >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 200); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
log "seeding $TRANSCRIPTS transcripts"
eval "$("$work/pullseed" --url "$base" --public-key "$work/public_key.pem" --transcripts "$TRANSCRIPTS")"
artifacts=$((TRANSCRIPTS * 4))

# server_cpu: CPU seconds (user+system) the server has used so far.
server_cpu() { python3 -c "import os,sys; f=open('/proc/$server/stat').read().rsplit(')',1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))"; }

# measure NAME CMD...: wall and CPU of CMD (via /usr/bin/time) and the
# server's CPU meanwhile, as one JSON line in $work/runs.json.
measure() {
  local name=$1; shift
  local s0; s0=$(server_cpu)
  /usr/bin/time -f '%e %U %S' -o "$work/time-$name.txt" "$@" >"$work/out-$name.txt" 2>"$work/err-$name.txt" || {
    cat "$work/err-$name.txt" >&2; return 1; }
  local s1; s1=$(server_cpu)
  read -r wall user sys <"$work/time-$name.txt"
  echo "{\"name\":\"$name\",\"wall\":$wall,\"cpu\":$(python3 -c "print($user+$sys)"),\"server_cpu\":$(python3 -c "print($s1-$s0)")}" >>"$work/runs.json"
  log "$name: ${wall}s wall"
}

log "convoseal pull (default --parallel)"
measure pull "$work/convoseal" pull --url "$base" --private-key "$work/private_key.pem" --service "$SERVICE_SID" \
  -o "$work/out-pull" --no-progress --cpuprofile "$work/pull.prof"
log "convoseal pull --parallel 1"
measure pull1 "$work/convoseal" pull --url "$base" --private-key "$work/private_key.pem" --service "$SERVICE_SID" \
  -o "$work/out-pull1" --no-progress --parallel 1
log "convoseal pull --jsonl"
measure jsonl "$work/convoseal" pull --url "$base" --private-key "$work/private_key.pem" --service "$SERVICE_SID" \
  --jsonl --no-progress
log "tuned Python loop"
mkdir -p "$work/out-py"
measure python python3 scripts/benchpull/tuned_loop.py "$base" "$SERVICE_SID" "$work/private_key.pem" "$work/out-py"
cp "$work/out-python.txt" "$work/python.json"

log "documented script, once per artifact, on $DOC_SAMPLE artifacts"
python3 scripts/benchpull/tuned_loop.py --manifest "$DOC_SAMPLE" "$base" "$SERVICE_SID" >"$work/manifest.txt"
mkdir -p "$work/doc"
cat >"$work/doc.sh" <<'SH'
#!/usr/bin/env bash
# For each location: download it recording the two headers, then run the
# documented script with the four values (what the documentation asks).
set -euo pipefail
i=0
while read -r loc; do
  i=$((i+1)); f="$DOC_DIR/artifact-$i"
  curl -sf -D "$f.headers" -o "$f" "$loc"
  key=$(grep -i '^x-amz-meta-x-amz-key:' "$f.headers" | cut -d' ' -f2 | tr -d '\r')
  iv=$(grep -i '^x-amz-meta-x-amz-iv:' "$f.headers" | cut -d' ' -f2 | tr -d '\r')
  ENCRYPTED_KEY_B64=$key IV_B64=$iv CIPHERTEXT_FILE=$f PRIVATE_KEY_FILE=$KEY python3 "$SCRIPT" >/dev/null
done <"$MANIFEST"
SH
chmod +x "$work/doc.sh"
export DOC_DIR="$work/doc" KEY="$work/private_key.pem" SCRIPT=$PWD/internal/interop/seed_decrypt.py MANIFEST="$work/manifest.txt"
measure documented "$work/doc.sh"

log "openssl speed -seconds 3 rsa2048"
openssl speed -seconds 3 rsa2048 >"$work/openssl.txt" 2>/dev/null

# Check the outputs agree: every approach decrypted the same sentences.
for d in "$work"/out-pull/GT*; do
  sid=$(basename "$d")
  cmp -s "$d/sentences.json" "$work/out-pull1/$sid/sentences.json" && cmp -s "$d/sentences.json" "$work/out-py/$sid/sentences.json" ||
    { echo "bench-pull: $sid: the outputs differ" >&2; exit 1; }
done
[ "$(wc -l <"$work/out-jsonl.txt")" = "$TRANSCRIPTS" ] || { echo "bench-pull: --jsonl did not write $TRANSCRIPTS lines" >&2; exit 1; }
[ "$(ls "$work/out-pull" | grep -c '^GT')" = "$TRANSCRIPTS" ] || { echo "bench-pull: convoseal pull did not write $TRANSCRIPTS folders" >&2; exit 1; }

# Where pull's CPU goes: the share of profile samples under each group.
prof_share() { # REGEX
  go tool pprof -top -focus="$1" "$work/convoseal" "$work/pull.prof" 2>/dev/null |
    sed -n 's/^Showing nodes accounting for [^,]*, \([0-9.]*\)% of \(.*\) total.*/\1 \2/p' | head -1
}
{
  echo "total $(go tool pprof -top "$work/convoseal" "$work/pull.prof" 2>/dev/null | sed -n 's/^Duration: .*Total samples = \([^ ]*\).*/\1/p')"
  echo "rsa $(prof_share 'crypto/rsa|crypto/internal/fips140/rsa|bigmod|seal/internal/libcrypto')"
  echo "aesgcm $(prof_share 'crypto/internal/fips140/aes')"
  echo "http $(prof_share 'net/http|net\.|internal/poll.*Read|internal/poll.*Write')"
  echo "json $(prof_share 'encoding/json')"
  echo "disk $(prof_share 'os\.\(\*File\)\.Sync|os\.Rename|os\.OpenFile|os\.\(\*File\)\.Write|syncDir|os\.Mkdir|os\.Stat|os\.ReadDir|unix\.Syncfs|os\.ReadFile')"
  echo "gc $(prof_share 'runtime\.gcBgMarkWorker|runtime\.mallocgc')"
} >"$work/profile.txt"

python3 - "$work" "$TRANSCRIPTS" "$artifacts" "$DOC_SAMPLE" <<'PY'
import json, os, platform, re, subprocess, sys
work, n, arts, sample = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
runs = {r["name"]: r for r in map(json.loads, open(f"{work}/runs.json"))}
py = json.load(open(f"{work}/python.json"))
ossl = open(f"{work}/openssl.txt").read()
m = re.search(r"^rsa\s+2048 bits\s+\S+s\s+\S+s\s+([\d.]+)", ossl, re.M)
floor = float(m.group(1)) if m else float("nan")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
print(f"Machine: {cpu}, nproc {os.cpu_count()} (shared with other work; load average before the pulls: {os.getloadavg()[0]:.2f}); {go}; {ossl.splitlines()[0] if ossl else ''}")
print(f"Command: `TRANSCRIPTS={n} DOC_SAMPLE={sample} scripts/bench-pull.sh` — {n} transcripts × (sentences + 3 operator results) = {arts} artifacts, served by `convoseal serve` (embedded SQLite + local files) on the same machine")
print()
print("| approach | wall s | artifacts/s | client CPU s | artifacts per client CPU-s | server CPU s | vs pull (wall) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
base = runs["pull"]["wall"]
doc = runs["documented"]
doc_wall = doc["wall"] * arts / sample
doc_cpu = doc["cpu"] * arts / sample
rows = [
    ("`convoseal pull` (default --parallel)", runs["pull"]["wall"], runs["pull"]["cpu"], runs["pull"]["server_cpu"]),
    ("`convoseal pull --parallel 1`", runs["pull1"]["wall"], runs["pull1"]["cpu"], runs["pull1"]["server_cpu"]),
    ("`convoseal pull --jsonl > FILE` (no per-file fsync)", runs["jsonl"]["wall"], runs["jsonl"]["cpu"], runs["jsonl"]["server_cpu"]),
    ("tuned Python loop (`cryptography`, one connection, files without fsync)", runs["python"]["wall"], runs["python"]["cpu"], runs["python"]["server_cpu"]),
    (f"documented script once per artifact (**extrapolated** from {sample} artifacts: {doc['wall']:.2f} s)", doc_wall, doc_cpu, doc["server_cpu"] * arts / sample),
]
for name, wall, c, s in rows:
    print(f"| {name} | {wall:.2f} | {arts / wall:,.0f} | {c:.2f} | {arts / c:,.0f} | {s:.2f} | {wall / base:.1f}× |")
print()
print(f"Per artifact: documented script {doc['wall'] / sample * 1000:.0f} ms wall (curl + a Python process); "
      f"tuned loop {py['unwrap_cpu'] / py['artifacts'] * 1e6:.0f} µs CPU in the RSA unwrap ({py['artifacts'] / py['unwrap_cpu']:,.0f}/s per core), "
      f"{py['gcm_cpu'] / py['artifacts'] * 1e6:.0f} µs in AES-GCM.")
print(f"RSA-2048 private-operation floor (`openssl speed -seconds 3 rsa2048`, one core): {floor:,.0f} sign/s.")
p1 = runs["pull1"]
print(f"`convoseal pull` per client CPU-second: {arts / runs['pull']['cpu']:,.0f} artifacts (default --parallel), {arts / p1['cpu']:,.0f} (--parallel 1) "
      f"= {arts / runs['pull']['cpu'] / floor:.2f}× the openssl floor; the tuned Python loop {arts / runs['python']['cpu']:,.0f} = {arts / runs['python']['cpu'] / floor:.2f}× the floor.")
print()
print("Where `convoseal pull`'s CPU goes (CPU profile of the default run; groups overlap where a stack passes through two):")
print()
prof = dict(l.split(" ", 1) for l in open(f"{work}/profile.txt").read().splitlines() if " " in l)
print(f"| group | share of {prof.get('total','?')} CPU samples |")
print("| --- | --- |")
labels = {"rsa": "RSA-OAEP unwrap (libcrypto through purego, or crypto/rsa)", "aesgcm": "AES-256-GCM", "http": "HTTP and sockets (net/http, net)",
          "json": "JSON (encoding/json)", "disk": "files (open, write, fsync, rename, mkdir)", "gc": "allocation and GC"}
for k, label in labels.items():
    v = prof.get(k, "").split(" ")[0] or "0"
    print(f"| {label} | {v} % |")
PY
