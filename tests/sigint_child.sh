#!/usr/bin/env bash
# sigint_child: runs a program as a child process, waits until it prints READY_RE, sends
# it SIGINT (as a user's Ctrl-C would) and checks that it exits 0 after printing every
# line of EXPECTED (EREs, whole lines, in order; see match_expected.sh).
#     sigint_child.sh PROGRAM READY_RE EXPECTED
set -euo pipefail
prog=$1
ready_re=$2
expected=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$prog" >"$out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do  # up to 10 s
  grep -Eq "$ready_re" "$out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if ! grep -Eq "$ready_re" "$out"; then
  echo "sigint_child: $prog never printed /$ready_re/:" >&2
  cat "$out" >&2
  kill -KILL "$pid" 2>/dev/null || true
  exit 1
fi
kill -INT "$pid"
rc=0
# Bounded wait: a program that ignores the signal fails the test instead of hanging.
for _ in $(seq 1 200); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then
  echo "sigint_child: $prog still running 10 s after SIGINT" >&2
  kill -KILL "$pid"
  cat "$out" >&2
  exit 1
fi
wait "$pid" || rc=$?
cat "$out"
if [ "$rc" -ne 0 ]; then
  echo "sigint_child: $prog exited with $rc after SIGINT" >&2
  exit 1
fi
bash "$(dirname "$0")/match_expected.sh" "$out" "$expected"
echo "sigint_child: clean shutdown after SIGINT"
