#!/bin/sh
# bench-fairness.sh [REV]: the "hostile tenant" scenario of
# e2e/fairness_test.go (account A floods 16 transcripts whose media hangs
# 45 s, plus 20 heavy fuzzy phrase-matching operators; account B submits a
# trivial transcript) run against the binary built from REV (default: the
# work tree), printing how long B's transcripts took. The test of the work
# tree is used for every REV, so old revisions are measured the same way.
# Set CONVOSEAL_E2E_BACKEND=cluster (with scripts/postgres.sh and
# scripts/versitygw.sh started) for the cluster backend.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root
if [ $# -gt 0 ]; then
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
	git -C "$root" archive "$1" | tar -x -C "$dir"
	cp "$root/e2e/fairness_test.go" "$dir/e2e/"
fi
cd "$dir"
go test -count=1 -run 'TestFairSchedulingHostileTenant$' -v ./e2e 2>&1 |
	grep -E 'victim transcript|refused|want 400|FAIL|PASS|^ok' || true
