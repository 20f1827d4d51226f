#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests (issue 5).
#
#   eval "$(scripts/postgres.sh start)"   # prints export CONVOSEAL_TEST_DATABASE_URL=...
#   go test ./internal/store ./internal/pipeline
#   scripts/postgres.sh stop
#
#   scripts/postgres.sh status            # is it running? prints the exports again
#   scripts/postgres.sh env               # the exports only (exit 1 if not running)
#
# start: initdb in a fresh temp dir (trust auth, unix sockets in that dir,
# fsync on), postgres on 127.0.0.1 at a free port (or $PG_PORT), a database
# named $PG_DATABASE (default convoseal_test). Installs PostgreSQL 15 with
# apt-get when no initdb is found. Running as root, the server runs as the
# unprivileged system user $PG_USER (default convoseal-pg), created if missing
# (useradd --system, no home, no login shell; it says so on stderr), kept, and
# reused by later starts; remove it with `userdel convoseal-pg`.
# Idempotent: a second start reuses the running cluster; stop does nothing when
# none runs. State is kept in $PG_STATE (default ${TMPDIR:-/tmp}/convoseal-pg.state).
# $PG_SERVER_OPTS, if set, is appended to the server's options at a fresh
# start (e.g. "-c shared_preload_libraries=pg_stat_statements" for
# scripts/bench-cluster.sh); a reused cluster keeps the options it has.
#
# Only the exports go to stdout; progress goes to stderr.
set -euo pipefail

state=${PG_STATE:-${TMPDIR:-/tmp}/convoseal-pg.state}
pg_user=${PG_USER:-convoseal-pg}
database=${PG_DATABASE:-convoseal_test}

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

find_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

install_postgres() {
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and we are not root: install postgresql-15"
  log "installing postgresql-15 with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  if ! apt-get install -y -qq postgresql-15 >&2; then
    log "postgresql-15 not available; installing the distribution's postgresql"
    apt-get install -y -qq postgresql >&2
  fi
}

# as_user runs a command as the unprivileged server user (or as ourselves
# when we are not root).
as_user() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null; then
      runuser -u "$pg_user" -- "$@"
    else
      su -s /bin/sh "$pg_user" -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

ensure_user() {
  [ "$(id -u)" = 0 ] || return 0
  if id -u "$pg_user" >/dev/null 2>&1; then
    log "running the server as the existing system user $pg_user (reused)"
  else
    log "creating the system user $pg_user to run the server as (unprivileged: no home, no login shell);"
    log "it is kept and reused by later runs; remove it with: userdel $pg_user"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pg_user" ||
      id -u "$pg_user" >/dev/null 2>&1 || die "could not create user $pg_user"
  fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$(( (RANDOM * 32768 + RANDOM) % 30000 + 20000 ))
    if ! port_busy "$p"; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

# load_state reads dir, port, bin, url from the state file; fails if absent.
load_state() {
  [ -f "$state" ] || return 1
  dir=$(sed -n 's/^dir=//p' "$state")
  port=$(sed -n 's/^port=//p' "$state")
  bin=$(sed -n 's/^bin=//p' "$state")
  [ -n "$dir" ] && [ -n "$port" ] && [ -n "$bin" ]
}

running() { [ -d "$dir/data" ] && as_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

server_pid() { head -n1 "$dir/data/postmaster.pid" 2>/dev/null || true; }

print_env() {
  echo "export CONVOSEAL_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:$port/$database?sslmode=disable'"
  echo "# postgres pid $(server_pid), dir $dir, port $port; stop with: scripts/postgres.sh stop"
}

wait_ready() {
  local i
  for i in $(seq 1 120); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then return 0; fi
    sleep 0.5
  done
  return 1
}

create_database() {
  local exists
  exists=$("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = '$database'")
  if [ "$exists" != 1 ]; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
  fi
}

start() {
  if load_state; then
    if running; then
      wait_ready || die "the cluster in $dir does not answer"
      create_database
      log "already running (dir $dir, port $port)"
      print_env
      return 0
    fi
    log "removing stale cluster state ($dir)"
    rm -rf "$dir"
    rm -f "$state"
  fi
  bin=$(find_bin) || { install_postgres; bin=$(find_bin) || die "no initdb after installing PostgreSQL"; }
  ensure_user
  dir=$(mktemp -d "${TMPDIR:-/tmp}/convoseal-pg.XXXXXX")
  chmod 0700 "$dir"
  if [ "$(id -u)" = 0 ]; then chown "$pg_user": "$dir"; fi
  as_user mkdir -p "$dir/sock"
  log "initdb in $dir/data ($("$bin/postgres" --version))"
  if ! as_user "$bin/initdb" -D "$dir/data" --auth=trust --username=postgres --encoding=UTF8 --locale=C \
    --no-instructions >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed"
  fi
  local tries=0
  while :; do
    port=${PG_PORT:-$(free_port)}
    # Write state before starting, so stop can clean up even if start fails.
    printf 'dir=%s\nport=%s\nbin=%s\n' "$dir" "$port" "$bin" >"$state"
    if as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=on -c max_connections=300${PG_SERVER_OPTS:+ $PG_SERVER_OPTS}" start >&2; then
      break
    fi
    tries=$((tries + 1))
    if [ -n "${PG_PORT:-}" ] || [ "$tries" -ge 5 ]; then
      tail -n 20 "$dir/server.log" >&2 || true
      die "could not start postgres (port $port)"
    fi
    log "start on port $port failed; trying another port"
  done
  wait_ready || { tail -n 20 "$dir/server.log" >&2; die "postgres did not become ready"; }
  create_database
  log "running: pid $(server_pid), port $port, dir $dir"
  print_env
}

stop() {
  if ! load_state; then
    log "not running (no $state)"
    return 0
  fi
  if running; then
    as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 ||
      as_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >&2 || true
  fi
  case "$(basename "$dir")" in
  convoseal-pg.*) rm -rf "$dir" ;;
  *) log "not removing unexpected directory $dir" ;;
  esac
  rm -f "$state"
  log "stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status)
  if load_state && running; then print_env; else log "not running"; exit 1; fi
  ;;
env)
  if load_state && running; then print_env | head -n1; else exit 1; fi
  ;;
*)
  echo "usage: $0 start|stop|status|env" >&2
  exit 2
  ;;
esac
