#!/usr/bin/env bash
# A real S3 server for the S3 blob store's tests: versitygw (Apache-2.0) with
# its posix backend, on 127.0.0.1, with a throw-away data directory and
# random root credentials.
#
#   scripts/versitygw.sh install        # build versitygw once (~3 min on 2 cores)
#   eval "$(scripts/versitygw.sh start)" # install if needed, start, export:
#       CONVOSEAL_TEST_S3_ENDPOINT CONVOSEAL_TEST_S3_ACCESS_KEY
#       CONVOSEAL_TEST_S3_SECRET_KEY CONVOSEAL_TEST_S3_REGION
#       VERSITYGW_PID VERSITYGW_DIR
#   go test ./internal/blob/s3
#   scripts/versitygw.sh stop           # kill it, delete its data
#
# Environment: VERSITYGW_PORT (default: a free port), VERSITYGW_BIN_DIR
# (default: .tmp/bin in the repository), VERSITYGW_DATA_PARENT (where the data
# directory is made; default $TMPDIR or /tmp). The posix backend keeps object
# metadata in extended attributes (user.*), so the data directory must be on
# a file system that supports them (ext4, xfs, btrfs, tmpfs on Linux ≥ 6.6);
# start checks this and fails otherwise. The tests create their own buckets.
#
# `start` prints only the export lines on stdout (log messages go to stderr);
# the server's own log is $VERSITYGW_DIR/server.log. `stop` uses VERSITYGW_PID
# and VERSITYGW_DIR from the environment, or else the last `start`'s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
VERSION=v1.8.0
bin_dir=${VERSITYGW_BIN_DIR:-$root/.tmp/bin}
bin=$bin_dir/versitygw
state=$root/.tmp/versitygw.last # the last start's exports, for stop
region=us-east-1

log() { printf 'versitygw.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

installed() {
  [ -x "$bin" ] && go version -m "$bin" 2>/dev/null |
    grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/versity/versitygw[[:space:]]+$VERSION([[:space:]]|$)"
}

install() {
  if installed; then return 0; fi
  command -v go >/dev/null || die "go is required to build versitygw"
  mkdir -p "$bin_dir"
  log "building versitygw $VERSION into $bin_dir (takes a few minutes)"
  local t0=$SECONDS
  # Outside the repository, so that its go.mod is not consulted or changed.
  (cd / && GOBIN="$bin_dir" GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$VERSION") ||
    die "building versitygw failed"
  log "built in $((SECONDS - t0))s"
}

rand_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + $(od -An -tu2 -N2 /dev/urandom | tr -d ' ') % 40000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "found no free port"
}

check_xattrs() { # dir
  local f=$1/.xattr-check
  : >"$f"
  if command -v setfattr >/dev/null; then
    setfattr -n user.convoseal -v 1 "$f" 2>/dev/null || { rm -f "$f"; return 1; }
  elif command -v python3 >/dev/null; then
    python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.convoseal", b"1")' "$f" 2>/dev/null || { rm -f "$f"; return 1; }
  else
    log "cannot check extended attribute support (no setfattr or python3); assuming it works"
  fi
  rm -f "$f"
}

start() {
  install
  local port=${VERSITYGW_PORT:-}
  if [ -z "$port" ]; then port=$(free_port); elif port_in_use "$port"; then die "port $port is in use"; fi
  local parent=${VERSITYGW_DATA_PARENT:-${TMPDIR:-/tmp}}
  local dir
  dir=$(mktemp -d "$parent/convoseal-versitygw.XXXXXX")
  mkdir -p "$dir/data"
  if ! check_xattrs "$dir/data"; then
    rm -rf "$dir"
    die "$parent does not support user extended attributes, which versitygw's posix backend needs; set VERSITYGW_DATA_PARENT to a directory on ext4/xfs/btrfs"
  fi
  local access secret
  access=AK$(rand_hex 9 | tr a-f A-F)
  secret=$(rand_hex 20)
  # Credentials through the environment, not argv (visible in ps).
  ROOT_ACCESS_KEY_ID=$access ROOT_SECRET_ACCESS_KEY=$secret VGW_REGION=$region \
    nohup "$bin" --port "127.0.0.1:$port" --health /health posix "$dir/data" \
    >"$dir/server.log" 2>&1 </dev/null &
  local pid=$!
  local ok=
  for _ in $(seq 150); do # up to 15s
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$dir/server.log" >&2
      rm -rf "$dir"
      die "versitygw exited at start"
    fi
    if curl -sf -o /dev/null "http://127.0.0.1:$port/health"; then ok=1; break; fi
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    kill "$pid" 2>/dev/null || true
    cat "$dir/server.log" >&2
    rm -rf "$dir"
    die "versitygw did not answer on 127.0.0.1:$port within 15s"
  fi
  local exports
  exports=$(cat <<EOF
export CONVOSEAL_TEST_S3_ENDPOINT=http://127.0.0.1:$port
export CONVOSEAL_TEST_S3_ACCESS_KEY=$access
export CONVOSEAL_TEST_S3_SECRET_KEY=$secret
export CONVOSEAL_TEST_S3_REGION=$region
export VERSITYGW_PID=$pid
export VERSITYGW_DIR=$dir
EOF
)
  mkdir -p "$(dirname "$state")"
  (umask 077 && printf '%s\n' "$exports" >"$state")
  log "versitygw $VERSION (pid $pid) on http://127.0.0.1:$port, data in $dir/data"
  printf '%s\n' "$exports"
}

stop() {
  local pid=${VERSITYGW_PID:-} dir=${VERSITYGW_DIR:-}
  if [ -z "$pid" ] && [ -f "$state" ]; then
    pid=$(sed -n 's/^export VERSITYGW_PID=//p' "$state")
    dir=$(sed -n 's/^export VERSITYGW_DIR=//p' "$state")
  fi
  [ -n "$pid" ] || die "no running versitygw known (set VERSITYGW_PID, or start one)"
  # Only kill the process if it is our versitygw.
  if kill -0 "$pid" 2>/dev/null && grep -q versitygw "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    log "stopped versitygw (pid $pid)"
  else
    log "versitygw (pid $pid) is not running"
  fi
  case $dir in
  */convoseal-versitygw.*) rm -rf "$dir" ;;
  esac
  if [ -f "$state" ] && grep -q "^export VERSITYGW_PID=$pid\$" "$state"; then rm -f "$state"; fi
}

case ${1:-} in
install) install ;;
start) start ;;
stop) stop ;;
path) install && echo "$bin" ;;
*) die "usage: $0 install|start|stop|path" ;;
esac
