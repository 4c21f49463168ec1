#!/usr/bin/env bash
# Runs an example and checks its stdout against expected.txt.
# usage: run_example.sh EXE EXPECTED_TXT [ARGS...]
#
# Every non-empty line of EXPECTED_TXT is an extended regex (grep -E -x: it must
# match a whole output line). The lines must match in order: each one matches a
# line that comes after the line matched by the previous one. Output lines that
# match nothing are allowed. The example must exit 0 within 120 s. Its stderr is
# passed through untouched.
set -uo pipefail
exe=$1 expected=$2
shift 2

out=$(mktemp)
trap 'rm -f "$out"' EXIT

timeout --kill-after=10 120 "$exe" "$@" >"$out"
rc=$?
if [[ $rc -ne 0 ]]; then
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "run_example: $exe timed out after 120 s" >&2
  else
    echo "run_example: $exe exited with status $rc" >&2
  fi
  echo "----- output -----" >&2
  cat "$out" >&2
  exit 1
fi

bash "$(dirname "$0")/match_expected.sh" "$out" "$expected" || exit 1
echo "run_example: OK ($(basename "$exe"))"
