#!/usr/bin/env bash
# Peak RSS of one convoseal process (embedded defaults) under two request-body
# floods on POST /v2/Transcripts, each against a fresh process:
#   channel: FLOOD_CHANNEL concurrent ~16 MiB bodies whose Channel is not a
#            data: URL ({"participants":[1,1,1,…],"media_properties":{…}})
#   data:    FLOOD_DATA concurrent ~16 MiB bodies whose Channel holds a valid
#            inline data: URL (base64 JSON transcript)
# Peak RSS is the kernel's high-water mark (VmHWM) of the server process.
# Loopback only; bounded request counts.
#
#   scripts/bench-bodies.sh                          # builds ./cmd/convoseal
#   BIN=/path/to/convoseal scripts/bench-bodies.sh   # another build (e.g. main)
#   FLOOD_CHANNEL=10 FLOOD_DATA=20 EXTRA="--max-body-bytes-in-flight 128MiB" scripts/bench-bodies.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FLOOD_CHANNEL=${FLOOD_CHANNEL:-10}
FLOOD_DATA=${FLOOD_DATA:-20}
EXTRA=${EXTRA:-}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

bin=${BIN:-}
if [ -z "$bin" ]; then
  go build -o "$work/convoseal" ./cmd/convoseal
  bin="$work/convoseal"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CONVOSEAL_ACCOUNT_SID=AC$(openssl rand -hex 16) CONVOSEAL_AUTH_TOKEN=$(openssl rand -hex 16)
export CONVOSEAL_METRICS_ADDR= # no metrics listener (older builds ignore this)
auth="$CONVOSEAL_ACCOUNT_SID:$CONVOSEAL_AUTH_TOKEN"

# The two bodies, each just under the 16 MiB body limit.
python3 - "$work" <<'PY'
import base64, json, sys, urllib.parse
work, limit = sys.argv[1], 16 << 20
tail = "&ServiceSid="  # the Service SID (34 bytes) is appended per run
# channel: raw JSON in the form (',', '[', '"' need no escaping in a form value)
pre = 'Channel={"media_properties":{"media_url":"https://example.com/a.json"},"participants":['
n = (limit - 100 - len(pre) - len(tail)) // 2
open(f"{work}/channel.tmpl", "w").write(pre + "1," * (n - 1) + "1]}" + tail)
# data: a valid transcript document, base64 in a data: URL ('+' and '=' escaped)
sentence = {"media_channel": 1, "start_time": 0.0, "end_time": 1.0, "transcript": "hello world " * 80}
def body(k):
    d = json.dumps({"sentences": [sentence] * k}).encode()
    url = "data:application/json;base64," + base64.b64encode(d).decode()
    return "Channel=" + urllib.parse.quote('{"media_properties":{"media_url":"' + url + '"}}', safe='/:{}",') + tail
one, two = len(body(1)), len(body(2))
k = (limit - 100 - one) // (two - one)
while len(b := body(k)) > limit - 100:
    k -= 1
open(f"{work}/data.tmpl", "w").write(b)
PY
start() {
  "$bin" serve --data "$work/data-$1" --addr "127.0.0.1:$port" --public-url "http://localhost:$port" \
    --workers 0 --log-level warn $EXTRA >"$work/server-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  svc=$(curl -sf -u "$auth" -d UniqueName="bench$RANDOM" "http://127.0.0.1:$port/v2/Services" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sid"])')
}
hwm() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$pid/status"; }
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$pid/status"; }

flood() { # case concurrency
  start "$1"
  { cat "$work/$1.tmpl"; printf '%s' "$svc"; } >"$work/$1.body"
  local before bytes t0 t1
  before=$(hwm)
  bytes=$(stat -c %s "$work/$1.body")
  t0=$(date +%s.%N)
  seq "$2" | xargs -P "$2" -I{} curl -s -o "$work/$1.resp" -w '%{http_code} %{time_total}\n' -u "$auth" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$work/$1.body" \
    "http://127.0.0.1:$port/v2/Transcripts" >"$work/$1.codes"
  t1=$(date +%s.%N)
  local peak; peak=$(hwm)
  local codes; codes=$(awk '{print $1}' "$work/$1.codes" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
  local slowest; slowest=$(awk 'BEGIN{m=0} {if ($2>m) m=$2} END{printf "%.1f", m}' "$work/$1.codes")
  printf '| %s | %d × %.1f MiB | %s| %.1f | %s | %s | %s |\n' "$1" "$2" "$(echo "$bytes/1048576" | bc -l)" "$codes" \
    "$(echo "$t1-$t0" | bc -l)" "$slowest" "$before" "$peak"
  [ -n "${DEBUG:-}" ] && head -c 300 "$work/$1.resp" >&2 && echo >&2
  kill -TERM "$pid"; wait "$pid" || true
}

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo "Machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(go version | cut -d' ' -f3); load average before: $(cut -d' ' -f1 /proc/loadavg)"
echo "Binary: $bin; extra flags: ${EXTRA:-none}"
echo
echo "| flood | requests × body | status codes | wall s | slowest request s | RSS before MiB | peak RSS MiB |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
flood channel "$FLOOD_CHANNEL"
flood data "$FLOOD_DATA"
