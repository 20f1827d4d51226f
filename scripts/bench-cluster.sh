#!/usr/bin/env bash
# Scale-out benchmark: transcripts per second with 1, 2 and 4 worker processes
# on PostgreSQL + S3 (versitygw), against the embedded defaults, on this
# machine, and where the time goes.
#
#   scripts/bench-cluster.sh
#   TRANSCRIPTS=600 ROUNDS=3 WORKER_COUNTS="1 2 4" scripts/bench-cluster.sh
#   OUT_DIR=/tmp/bench scripts/bench-cluster.sh   # also keep profiles and raw figures
#   BASELINE_BIN=/tmp/convoseal-old scripts/bench-cluster.sh
#
# With BASELINE_BIN (a convoseal binary built from another revision), every
# round runs each setup with that binary and then with this tree's, so a
# before/after comparison sees the same machine noise.
#
# ROUNDS plain rounds run the setups in turn (embedded, 1, 2, 4 workers, then
# again), so noise from other work on the machine spreads over all of them;
# the table gives the median. Then, with PROFILE=1 (the default), one more
# instrumented round per setup measures where the time goes:
#   - CPU seconds taken by each process (API, workers, Postgres, versitygw,
#     load generator) and by everything else on the machine (/proc);
#   - a CPU profile of the API process and of one worker (--debug-pprof);
#   - Postgres: statements, commits, WAL records/bytes and WAL fsyncs per
#     transcript (pg_stat_statements, pg_stat_database, pg_stat_wal), and what
#     the backends wait on (pg_stat_activity sampled every 50 ms);
#   - River: how long each transcript job waited in the queue before a worker
#     took it, and how long it then took to complete (river_job, transcripts);
#   - S3: wall time of each request, through a timing proxy (benchprobe);
#   - the disk's fsync rate (pg_test_fsync), the floor under commit latency.
# The instrumented round is slower than the plain ones (the proxy and the
# sampler take CPU too); its throughput is not used in the table.
set -euo pipefail
cd "$(dirname "$0")/.."
TRANSCRIPTS=${TRANSCRIPTS:-600}
SENTENCES=${SENTENCES:-40}
CONCURRENCY=${CONCURRENCY:-8}
WORKER_COUNTS=${WORKER_COUNTS:-1 2 4}
JOBS_PER_WORKER=${JOBS_PER_WORKER:-4}
ROUNDS=${ROUNDS:-2}
PROFILE=${PROFILE:-1}
PROFILE_SECONDS=${PROFILE_SECONDS:-4}
OUT_DIR=${OUT_DIR:-}
BASELINE_BIN=${BASELINE_BIN:-}
work=$(mktemp -d)
export PG_STATE="$work/pg.state"
export PG_SERVER_OPTS="-c shared_preload_libraries=pg_stat_statements -c track_wal_io_timing=on -c track_io_timing=on"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  scripts/postgres.sh stop >/dev/null 2>&1 || true
  scripts/versitygw.sh stop >/dev/null 2>&1 || true
  if [ -n "$OUT_DIR" ]; then mkdir -p "$OUT_DIR" && cp "$work"/*.jsonl "$work"/*.prof "$work"/fsync.txt "$work"/*.json "$work/convoseal" "$OUT_DIR"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

pgenv=$(scripts/postgres.sh start)
eval "$pgenv"
pg_pid=$(sed -n 's/.*postgres pid \([0-9]*\),.*/\1/p' <<<"$pgenv")
pg_dir=$(sed -n 's/.*, dir \([^,]*\),.*/\1/p' <<<"$pgenv")
eval "$(scripts/versitygw.sh start)"
export AWS_ACCESS_KEY_ID=$CONVOSEAL_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$CONVOSEAL_TEST_S3_SECRET_KEY
go build -o "$work/convoseal" ./cmd/convoseal
go build -o "$work/loadgen" ./scripts/loadgen
go build -o "$work/mkbucket" ./scripts/mkbucket
go build -o "$work/benchprobe" ./scripts/loadgen/benchprobe
export CONVOSEAL_ACCOUNT_SID=AC$(openssl rand -hex 16) CONVOSEAL_AUTH_TOKEN=$(openssl rand -hex 16)
export CONVOSEAL_METRICS_ADDR= # no /metrics listeners: many processes share this host
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ready() { for _ in $(seq 200); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }
base_db=${CONVOSEAL_TEST_DATABASE_URL%%\?*}; base_db=${base_db%/*}
pgq() { psql -X -q -At "$CONVOSEAL_TEST_DATABASE_URL" -c "$1"; }
pgq "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

# cpu_snap NAME=PID... writes each named process's CPU ticks (user+system;
# "postgres" counts the postmaster and all its children) and the machine's
# busy and total ticks, as JSON.
cat >"$work/cpusnap.py" <<'PY'
import json, os, sys
def ticks(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12]), int(f[1])  # utime+stime, ppid
    except (OSError, IndexError):
        return 0, 0
out = {"procs": {}}
children = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        t, ppid = ticks(p)
        children.setdefault(ppid, []).append((int(p), t))
for arg in sys.argv[1:]:
    name, pid = arg.split("=")
    pid = int(pid)
    out["procs"][f"{name}:{pid}"] = ticks(pid)[0]
    if name == "postgres":
        for c, t in children.get(pid, []):
            try:
                cmd = open(f"/proc/{c}/cmdline").read()
            except OSError:
                cmd = ""
            kind = "postgres" if "(" in cmd else "postgres-bg"  # client backends show host(port)
            out["procs"][f"{kind}:{c}"] = t
cpu = [int(x) for x in open("/proc/stat").readline().split()[1:]]
out["machine_total"] = sum(cpu[:8])
out["machine_idle"] = cpu[3] + cpu[4]
out["hz"] = os.sysconf("SC_CLK_TCK")
print(json.dumps(out))
PY
cpu_snap() { python3 "$work/cpusnap.py" "$@"; }

variant=""               # "" (this tree) or "base" (BASELINE_BIN)
bin="$work/convoseal"
use() { # variant: select the binary
  variant=$1
  if [ "$1" = base ]; then bin=$BASELINE_BIN; else bin="$work/convoseal"; fi
}
tagged() { sed "s/^{/{\"variant\":\"$variant\",/"; }

pg_snap() { # database → JSON of cumulative statistics
  pgq "SELECT json_build_object('db', (SELECT row_to_json(d) FROM (SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_fetched, blks_read, blks_hit FROM pg_stat_database WHERE datname = '$1') d),
    'wal', (SELECT row_to_json(w) FROM (SELECT wal_records, wal_fpi, wal_bytes::bigint, wal_write, wal_sync, wal_write_time, wal_sync_time FROM pg_stat_wal) w))"
}

# profile_run TAG API_PORT [WORKER_PORT]: CPU profiles while the load runs.
profile_during() {
  local tag=$1 api=$2 wport=${3:-}
  sleep 1
  curl -s "http://127.0.0.1:$api/debug/pprof/profile?seconds=$PROFILE_SECONDS" -o "$work/${variant}api-$tag.prof" &
  if [ -n "$wport" ]; then curl -s "http://127.0.0.1:$wport/debug/pprof/profile?seconds=$PROFILE_SECONDS" -o "$work/${variant}worker-$tag.prof" & fi
  wait
}

run_cluster() { # workers round
  local w=$1 round=$2 name="bench_${variant}w${1}_r${2}" pids=() probe_pid="" prof_pid="" s3=$CONVOSEAL_TEST_S3_ENDPOINT
  local profiled=0; [ "$round" = profile ] && profiled=1
  pgq "CREATE DATABASE $name" >/dev/null
  local db="$base_db/$name?sslmode=disable" bucket=${name//_/-}
  "$work/mkbucket" "$CONVOSEAL_TEST_S3_ENDPOINT" "$bucket"
  if [ $profiled = 1 ]; then
    "$work/benchprobe" --s3-target "$s3" --addr-file "$work/probe.addr" --database "$CONVOSEAL_TEST_DATABASE_URL" \
      --sample-db "$name" --out "$work/${variant}probe-w$w.json" &
    probe_pid=$!
    for _ in $(seq 50); do [ -s "$work/probe.addr" ] && break; sleep 0.1; done
    s3=$(cat "$work/probe.addr"); rm -f "$work/probe.addr"
  fi
  local blob="s3://$bucket/a?endpoint=$s3&region=us-east-1&path_style=true"
  local common=(--database "$db" --blob "$blob" --kek-file "$work/kek" --log-level warn --debug-pprof)
  local api; api=$(free_port)
  "$bin" serve "${common[@]}" --role api --data "$work/api-$w-$round" --addr "127.0.0.1:$api" --public-url "http://localhost:$api" >"$work/api-$w.log" 2>&1 &
  local api_pid=$!; pids+=($api_pid); ready "$api"
  local wports=() snap_args=("api=$api_pid" "postgres=$pg_pid" "s3=$VERSITYGW_PID")
  [ -n "$probe_pid" ] && snap_args+=("probe=$probe_pid")
  for i in $(seq "$w"); do
    local p; p=$(free_port); wports+=("$p")
    "$bin" serve "${common[@]}" --role worker --workers "$JOBS_PER_WORKER" --data "$work/w$w-$i-$round" \
      --addr "127.0.0.1:$p" >"$work/worker-$w-$i.log" 2>&1 &
    pids+=($!); snap_args+=("worker=$!"); ready "$p"
  done
  local label="postgres+s3, $w worker process(es)"
  if [ $profiled = 1 ]; then
    sleep 11 # idle backends flush their statistics after 10 s
    pgq "SELECT pg_stat_statements_reset()" >/dev/null
    pg_snap "$name" >"$work/${variant}pg-before-w$w.json"
    cpu_snap "${snap_args[@]}" >"$work/${variant}cpu-before-w$w.json"
    profile_during "w$w" "$api" "${wports[0]}" &
    prof_pid=$!
  fi
  "$work/loadgen" --url "http://localhost:$api" --transcripts "$TRANSCRIPTS" --sentences "$SENTENCES" \
    --concurrency "$CONCURRENCY" --encrypt --label "$label" | sed "s/^{/{\"round\":\"$round\",\"workers\":$w,/" | tagged >>"$work/results.jsonl"
  if [ $profiled = 1 ]; then
    cpu_snap "${snap_args[@]}" >"$work/${variant}cpu-after-w$w.json"
    wait "$prof_pid" || true
  fi
  local last_job; last_job=$(psql -X -q -At "$db" -c "SELECT coalesce(max(id), 0) FROM river_job")
  if [ $profiled = 0 ]; then # queue latency under a light, steady load: 10 transcripts/s
    "$work/loadgen" --url "http://localhost:$api" --transcripts 40 --sentences "$SENTENCES" --concurrency 1 --pace 100ms \
      --encrypt --label paced >/dev/null
  fi
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  if [ $profiled = 1 ]; then
    kill -TERM "$probe_pid"; wait "$probe_pid" 2>/dev/null || true
    sleep 1
    pg_snap "$name" >"$work/${variant}pg-after-w$w.json"
    pgq "SELECT json_agg(s) FROM (SELECT regexp_replace(left(query, 90), '\s+', ' ', 'g') AS query, calls, total_exec_time, rows, wal_bytes::bigint
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$name') ORDER BY total_exec_time DESC) s" >"$work/${variant}statements-w$w.json"
    river_stats "$db" "j.id <= $last_job" >"$work/${variant}river-w$w.json"
  fi
  if [ $profiled = 0 ]; then
    river_stats "$db" "j.id <= $last_job" | sed "s/^{/{\"round\":\"$round\",\"workers\":$w,\"set\":\"load\",/" | tagged >>"$work/river.jsonl"
    river_stats "$db" "j.id > $last_job" | sed "s/^{/{\"round\":\"$round\",\"workers\":$w,\"set\":\"paced\",/" | tagged >>"$work/river.jsonl"
  fi
}

river_stats() { # database-url job-condition → JSON: queue wait and work time of completed transcript jobs
    psql -X -q -At "$1" -c "SELECT row_to_json(x) FROM (SELECT count(*) AS jobs,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j.attempted_at - j.created_at)) * 1000 AS wait_p50_ms,
        percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM j.attempted_at - j.created_at)) * 1000 AS wait_p99_ms,
        avg(extract(epoch FROM j.attempted_at - j.created_at)) * 1000 AS wait_mean_ms,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.date_updated::timestamptz - j.attempted_at)) * 1000 AS work_p50_ms,
        percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM t.date_updated::timestamptz - j.attempted_at)) * 1000 AS work_p99_ms,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.date_updated::timestamptz - t.date_created::timestamptz)) * 1000 AS e2e_p50_ms,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j.finalized_at - t.date_updated::timestamptz)) * 1000 AS river_complete_lag_p50_ms,
        avg(j.attempt) AS attempts_mean
      FROM river_job j JOIN transcripts t ON t.sid = j.args->>'transcript_sid' WHERE j.kind = 'transcribe' AND t.status = 'completed' AND $2) x"
}

run_embedded() { # round
  local round=$1 p prof_pid=""; p=$(free_port)
  "$bin" serve --data "$work/${variant}embedded-$round" --addr "127.0.0.1:$p" --public-url "http://localhost:$p" --log-level warn --debug-pprof >"$work/embedded.log" 2>&1 &
  local pid=$!; ready "$p"
  if [ "$round" = profile ]; then
    cpu_snap "api=$pid" >"$work/${variant}cpu-before-w0.json"
    profile_during w0 "$p" &
    prof_pid=$!
  fi
  "$work/loadgen" --url "http://localhost:$p" --transcripts "$TRANSCRIPTS" --sentences "$SENTENCES" \
    --concurrency "$CONCURRENCY" --encrypt --label "embedded (SQLite + local blobs), 1 process" |
    sed "s/^{/{\"round\":\"$round\",\"workers\":0,/" | tagged >>"$work/results.jsonl"
  if [ "$round" = profile ]; then cpu_snap "api=$pid" >"$work/${variant}cpu-after-w0.json"; wait "$prof_pid" || true; fi
  kill -TERM $pid; wait $pid || true
}

variants=""; [ -n "$BASELINE_BIN" ] && variants="base"; variants="$variants cur"
for r in $(seq "$ROUNDS"); do
  for v in $variants; do use "${v/cur/}"; run_embedded "$r"; done
  for w in $WORKER_COUNTS; do
    for v in $variants; do use "${v/cur/}"; run_cluster "$w" "$r"; done
  done
done
if [ "$PROFILE" = 1 ]; then
  for v in $variants; do
    use "${v/cur/}"
    run_embedded profile
    for w in $WORKER_COUNTS; do run_cluster "$w" profile; done
  done
  # The disk's sync rate where the Postgres data directory lives.
  /usr/lib/postgresql/15/bin/pg_test_fsync -s 2 -f "$pg_dir/fsync.test" 2>/dev/null |
    grep 'ops/sec' | head -5 >"$work/fsync.txt" || true
fi

for v in $variants; do
python3 - "$work" "$TRANSCRIPTS" "$SENTENCES" "$CONCURRENCY" "$JOBS_PER_WORKER" "$WORKER_COUNTS" "$PROFILE" "${v/cur/}" <<'PY'
import json, sys, os, platform, statistics, subprocess
work, n, sentences, conc, jobs, wcounts, profile, variant = sys.argv[1:]
n = int(n)
rows = [r for r in (json.loads(l) for l in open(f"{work}/results.jsonl")) if r["variant"] == variant]
print(f"## {'baseline binary (BASELINE_BIN)' if variant else 'this tree'}")
print()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"Machine: {cpu}, {os.cpu_count()} vCPUs; load average at the end: {os.getloadavg()[0]:.2f}")
print(f"Command: `TRANSCRIPTS={n} scripts/bench-cluster.sh` — {n} transcripts of {sentences} sentences each, customer encryption on, {conc} API clients, {jobs} jobs per worker process; everything on this one machine")
print()
setups = [0] + [int(w) for w in wcounts.split()]
plain = [r for r in rows if r["round"] != "profile"]
print("| setup | transcripts/s, median | rounds | create p50 / p99 ms | fetch p50 / p99 ms |")
print("| --- | --: | --- | --: | --: |")
for w in setups:
    rs = [r for r in plain if r["workers"] == w]
    if not rs:
        continue
    med = statistics.median(r["transcripts_per_second"] for r in rs)
    c50 = statistics.median(r["create_p50_ms"] for r in rs); c99 = statistics.median(r["create_p99_ms"] for r in rs)
    f50 = statistics.median(r["fetch_p50_ms"] for r in rs); f99 = statistics.median(r["fetch_p99_ms"] for r in rs)
    print(f"| {rs[0]['label']} | {med:.1f} | {', '.join('%.1f' % r['transcripts_per_second'] for r in rs)} | {c50:.1f} / {c99:.1f} | {f50:.2f} / {f99:.2f} |")
try:
    river = [r for r in (json.loads(l) for l in open(f"{work}/river.jsonl")) if r["variant"] == variant]
except OSError:
    river = []
if river:
    print()
    print("River queue wait (job created → taken by a worker) and job start → transcript completed, medians over rounds:")
    print("under the full load above, and under a light steady load afterwards (40 transcripts, 1 client, 10/s):")
    print()
    print("| setup | load: wait p50 / p99 ms | load: work p50 / p99 ms | light: wait p50 / p99 ms | light: work p50 / p99 ms | light: create → completed p50 ms |")
    print("| --- | --: | --: | --: | --: | --: |")
    for w in setups[1:]:
        def m(st, k):
            v = [r[k] for r in river if r["workers"] == w and r["set"] == st and r.get(k) is not None]
            return statistics.median(v) if v else float("nan")
        print(f"| PG+S3, {w} worker(s) | {m('load','wait_p50_ms'):.0f} / {m('load','wait_p99_ms'):.0f} | {m('load','work_p50_ms'):.0f} / {m('load','work_p99_ms'):.0f} | {m('paced','wait_p50_ms'):.1f} / {m('paced','wait_p99_ms'):.1f} | {m('paced','work_p50_ms'):.1f} / {m('paced','work_p99_ms'):.1f} | {m('paced','e2e_p50_ms'):.1f} |")
if profile != "1":
    sys.exit()

def load(name):
    try:
        return json.load(open(f"{work}/{variant}{name}"))
    except (OSError, ValueError):
        return None

print()
print("Instrumented round (timing proxy and sampler on; throughput lower than above):")
print()
print("CPU per transcript, ms of one vCPU (/proc), and the machine's use:")
print()
print("| setup | t/s | API | workers | Postgres backends | Postgres background | versitygw | load gen | probe | other processes | machine busy |")
print("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |")
for w in setups:
    b, a = load(f"cpu-before-w{w}.json"), load(f"cpu-after-w{w}.json")
    r = next((r for r in rows if r["round"] == "profile" and r["workers"] == w), None)
    if not (a and b and r):
        continue
    hz = a["hz"]; per = {}
    for k, t in a["procs"].items():
        g = k.split(":")[0]
        per[g] = per.get(g, 0) + t - b["procs"].get(k, 0)
    per["loadgen"] = r["loadgen_cpu_seconds"] * hz
    total = a["machine_total"] - b["machine_total"]; busy = total - (a["machine_idle"] - b["machine_idle"])
    ours = sum(per.values())
    f = lambda ticks: f"{ticks / hz * 1000 / n:.2f}"
    label = "embedded" if w == 0 else f"PG+S3, {w} worker(s)"
    print(f"| {label} | {r['transcripts_per_second']:.1f} | {f(per.get('api', 0))} | {f(per.get('worker', 0))} | {f(per.get('postgres', 0))} | {f(per.get('postgres-bg', 0))} | {f(per.get('s3', 0))} | {f(per.get('loadgen', 0))} | {f(per.get('probe', 0))} | {f(max(busy - ours, 0))} | {100 * busy / total:.0f} % |")

print()
print("Postgres per transcript (pg_stat_statements, pg_stat_database, pg_stat_wal; whole run incl. River's polling):")
print()
print("| setup | statements | commits | rows written | WAL records | WAL kB | WAL fsyncs | fsync ms | River queue wait p50 / p99 ms | job start → transcript completed p50 / p99 ms | River completion lag p50 ms |")
print("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |")
for w in setups[1:]:
    b, a, st, rv = load(f"pg-before-w{w}.json"), load(f"pg-after-w{w}.json"), load(f"statements-w{w}.json") or [], load(f"river-w{w}.json")
    if not (a and b):
        continue
    d = lambda k: (a["db"][k] - b["db"][k]) / n
    wl = lambda k: (a["wal"][k] - b["wal"][k]) / n
    calls = sum(s["calls"] for s in st) / n
    rv = rv or {}
    g = lambda k: rv.get(k) or 0
    print(f"| PG+S3, {w} worker(s) | {calls:.1f} | {d('xact_commit'):.2f} | {d('tup_inserted') + d('tup_updated') + d('tup_deleted'):.1f} | {wl('wal_records'):.1f} | {wl('wal_bytes') / 1024:.1f} | {wl('wal_sync'):.2f} | {wl('wal_sync_time'):.2f} | {g('wait_p50_ms'):.1f} / {g('wait_p99_ms'):.1f} | {g('work_p50_ms'):.1f} / {g('work_p99_ms'):.1f} | {g('river_complete_lag_p50_ms'):.0f} |")
w = setups[-1]
st = load(f"statements-w{w}.json") or []
if st:
    print()
    print(f"Top statements by total execution time, {w}-worker run (per transcript):")
    print()
    print("| statement | calls | ms | WAL bytes |")
    print("| --- | --: | --: | --: |")
    for s in st[:12]:
        q = s["query"].replace("|", "\\|")
        print(f"| `{q}` | {s['calls'] / n:.2f} | {s['total_exec_time'] / n:.3f} | {s['wal_bytes'] / n:.0f} |")
for w in setups[1:]:
    p = load(f"probe-w{w}.json")
    if not p:
        continue
    print()
    print(f"PG+S3, {w} worker(s): S3 requests through the timing proxy, and Postgres backends sampled ({p['pg_samples']} samples, up to {p['pg_max_connections']} connections):")
    print()
    print("| S3 request | per transcript | mean ms | p50 ms | p99 ms |")
    print("| --- | --: | --: | --: | --: |")
    for o in p["s3"]:
        if o["count"] >= n / 10:
            print(f"| {o['op']} | {o['count'] / n:.2f} | {o['mean_ms']:.2f} | {o['p50_ms']:.2f} | {o['p99_ms']:.2f} |")
    print()
    print("| backend state (mean number of backends) | |")
    print("| --- | --: |")
    for x in p["pg_activity"]:
        if x["mean_backends"] >= 0.05:
            print(f"| {x['what']} | {x['mean_backends']:.2f} |")
for tag in ["w0"] + [f"w{w}" for w in setups[1:]]:
    for kind in ["api", "worker"]:
        prof = f"{work}/{variant}{kind}-{tag}.prof"
        if os.path.exists(prof) and os.path.getsize(prof) > 0:
            top = subprocess.run(["go", "tool", "pprof", "-top", f"{work}/convoseal", prof], capture_output=True, text=True).stdout.splitlines()
            print()
            print(f"CPU profile, {kind} process, {tag.replace('w0', 'embedded').replace('w', 'workers=')} (go tool pprof -top, first 22 lines):")
            print("```")
            print("\n".join(top[:22]))
            print("```")
if os.path.exists(f"{work}/fsync.txt"):
    print()
    print("pg_test_fsync on the Postgres data directory's file system (ops/s):")
    print("```")
    print(open(f"{work}/fsync.txt").read().rstrip())
    print("```")
print()
PY
done
