#!/usr/bin/env bash
# Scale-out benchmark: transcripts per second with 1, 2 and 4 worker processes
# on PostgreSQL + S3 (versitygw), against the embedded defaults, in one run on
# this machine, plus a CPU profile of one worker during the 4-worker run.
#
#   scripts/bench-cluster.sh
#   TRANSCRIPTS=500 WORKER_COUNTS="1 2 4" scripts/bench-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
TRANSCRIPTS=${TRANSCRIPTS:-300}
SENTENCES=${SENTENCES:-40}
CONCURRENCY=${CONCURRENCY:-8}
WORKER_COUNTS=${WORKER_COUNTS:-1 2 4}
JOBS_PER_WORKER=${JOBS_PER_WORKER:-4}
work=$(mktemp -d)
export PG_STATE="$work/pg.state"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  scripts/postgres.sh stop >/dev/null 2>&1 || true
  scripts/versitygw.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

eval "$(scripts/postgres.sh start)"
eval "$(scripts/versitygw.sh start)"
export AWS_ACCESS_KEY_ID=$CONVOSEAL_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$CONVOSEAL_TEST_S3_SECRET_KEY
go build -o "$work/convoseal" ./cmd/convoseal
go build -o "$work/loadgen" ./scripts/loadgen
go build -o "$work/mkbucket" ./scripts/mkbucket
export CONVOSEAL_ACCOUNT_SID=AC$(openssl rand -hex 16) CONVOSEAL_AUTH_TOKEN=$(openssl rand -hex 16)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ready() { for _ in $(seq 200); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }
base_db=${CONVOSEAL_TEST_DATABASE_URL%%\?*}; base_db=${base_db%/*}

run_cluster() { # workers
  local w=$1 name="bench_w${1}_$RANDOM" pids=()
  psql -q "$CONVOSEAL_TEST_DATABASE_URL" -c "CREATE DATABASE $name" >/dev/null
  local db="$base_db/$name?sslmode=disable" bucket=${name//_/-}
  "$work/mkbucket" "$CONVOSEAL_TEST_S3_ENDPOINT" "$bucket"
  local blob="s3://$bucket/a?endpoint=$CONVOSEAL_TEST_S3_ENDPOINT&region=us-east-1&path_style=true"
  local common=(--database "$db" --blob "$blob" --kek-file "$work/kek" --log-level warn)
  local api; api=$(free_port)
  "$work/convoseal" serve "${common[@]}" --role api --data "$work/api-$w" --addr "127.0.0.1:$api" --public-url "http://localhost:$api" >"$work/api-$w.log" 2>&1 &
  pids+=($!); ready "$api"
  local wports=() prof_pid=""
  for i in $(seq "$w"); do
    local p; p=$(free_port); wports+=("$p")
    "$work/convoseal" serve "${common[@]}" --role worker --workers "$JOBS_PER_WORKER" --debug-pprof --data "$work/w$w-$i" \
      --addr "127.0.0.1:$p" >"$work/worker-$w-$i.log" 2>&1 &
    pids+=($!); ready "$p"
  done
  if [ "$w" = "$(echo $WORKER_COUNTS | awk '{print $NF}')" ]; then
    (sleep 2; curl -s "http://127.0.0.1:${wports[0]}/debug/pprof/profile?seconds=8" -o "$work/worker.prof") &
    prof_pid=$!
  fi
  "$work/loadgen" --url "http://localhost:$api" --transcripts "$TRANSCRIPTS" --sentences "$SENTENCES" \
    --concurrency "$CONCURRENCY" --encrypt --label "postgres+s3, $w worker process(es)" >>"$work/results.jsonl"
  [ -n "$prof_pid" ] && wait "$prof_pid"
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
}

run_embedded() {
  local p; p=$(free_port)
  "$work/convoseal" serve --data "$work/embedded" --addr "127.0.0.1:$p" --public-url "http://localhost:$p" --log-level warn >"$work/embedded.log" 2>&1 &
  local pid=$!; ready "$p"
  "$work/loadgen" --url "http://localhost:$p" --transcripts "$TRANSCRIPTS" --sentences "$SENTENCES" \
    --concurrency "$CONCURRENCY" --encrypt --label "embedded (SQLite + local blobs), 1 process" >>"$work/results.jsonl"
  kill -TERM $pid; wait $pid || true
}

run_embedded
for w in $WORKER_COUNTS; do run_cluster "$w"; done

python3 - "$work/results.jsonl" "$TRANSCRIPTS" "$SENTENCES" "$CONCURRENCY" "$JOBS_PER_WORKER" <<'PY'
import json, sys, os, subprocess, platform
rows = [json.loads(l) for l in open(sys.argv[1])]
n, sentences, conc, jobs = sys.argv[2:]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"Machine: {cpu}, {os.cpu_count()} cores; load average at the end: {os.getloadavg()[0]:.2f}")
print(f"Command: `TRANSCRIPTS={n} scripts/bench-cluster.sh` — {n} transcripts of {sentences} sentences, customer encryption on, {conc} API clients, {jobs} jobs per worker process; everything on this one machine")
print()
print("| setup | transcripts/s | create p50 / p99 ms | fetch p50 / p99 ms |")
print("| --- | --: | --: | --: |")
for r in rows:
    print(f"| {r['label']} | {r['transcripts_per_second']:.1f} | {r['create_p50_ms']:.1f} / {r['create_p99_ms']:.1f} | {r['fetch_p50_ms']:.2f} / {r['fetch_p99_ms']:.2f} |")
PY
if [ -s "$work/worker.prof" ]; then
  echo
  echo "CPU profile of one worker process during the last run (go tool pprof -top, first 25 lines):"
  echo '```'
  go tool pprof -top "$work/convoseal" "$work/worker.prof" 2>/dev/null | head -25
  echo '```'
fi
