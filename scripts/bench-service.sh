#!/usr/bin/env bash
# Whole-system benchmark on the embedded defaults (SQLite + local blobs):
# transcripts per second from create to completed, and API latency, with
# customer encryption off and on, alternating runs on fresh data directories.
#
#   scripts/bench-service.sh                 # 3 rounds of 300 transcripts per mode
#   ROUNDS=5 TRANSCRIPTS=500 scripts/bench-service.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
TRANSCRIPTS=${TRANSCRIPTS:-300}
SENTENCES=${SENTENCES:-40}
CONCURRENCY=${CONCURRENCY:-8}
WORKERS=${WORKERS:-4}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/convoseal" ./cmd/convoseal
go build -o "$work/loadgen" ./scripts/loadgen
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CONVOSEAL_ACCOUNT_SID=AC$(openssl rand -hex 16) CONVOSEAL_AUTH_TOKEN=$(openssl rand -hex 16)
export CONVOSEAL_METRICS_ADDR= # no /metrics listener: benchmarks may run side by side

run() { # mode round
  local data="$work/data-$1-$2"
  "$work/convoseal" serve --data "$data" --addr "127.0.0.1:$port" --public-url "http://localhost:$port" \
    --workers "$WORKERS" --log-level warn >"$work/server-$1-$2.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local enc=""; [ "$1" = on ] && enc="--encrypt"
  "$work/loadgen" --url "http://localhost:$port" --transcripts "$TRANSCRIPTS" --sentences "$SENTENCES" \
    --concurrency "$CONCURRENCY" $enc --label "$1" >>"$work/results.jsonl"
  kill -TERM $pid; wait $pid || true
}

for r in $(seq "$ROUNDS"); do run off "$r"; run on "$r"; done

python3 - "$work/results.jsonl" "$ROUNDS" "$TRANSCRIPTS" "$SENTENCES" "$CONCURRENCY" "$WORKERS" <<'PY'
import json, statistics, sys, subprocess, platform, os
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, n, sentences, conc, workers = sys.argv[2:]
def med(label, key): return statistics.median(r[key] for r in rows if r["label"] == label)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
print(f"Machine: {cpu}, {os.cpu_count()} cores; {go}; load average before: {os.getloadavg()[0]:.2f}")
print(f"Command: `ROUNDS={rounds} TRANSCRIPTS={n} SENTENCES={sentences} CONCURRENCY={conc} WORKERS={workers} scripts/bench-service.sh` "
      f"(medians of {rounds} alternating rounds; each round a fresh data directory)")
print()
print("| customer encryption | transcripts/s (create → completed) | create p50 / p99 ms | fetch p50 / p99 ms |")
print("| --- | --- | --- | --- |")
for label, name in (("off", "off (server KEK)"), ("on", "on (RSA-2048 OAEP)")):
    print(f"| {name} | {med(label,'transcripts_per_second'):.1f} | {med(label,'create_p50_ms'):.2f} / {med(label,'create_p99_ms'):.2f} | {med(label,'fetch_p50_ms'):.2f} / {med(label,'fetch_p99_ms'):.2f} |")
off, on = med("off", "transcripts_per_second"), med("on", "transcripts_per_second")
print()
print(f"Throughput with customer encryption is {on/off*100:.1f}% of without (cost {(1-on/off)*100:+.1f}%).")
PY
