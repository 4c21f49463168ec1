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

total=$(wc -l <"$out")
pos=0   # number of output lines already consumed
while IFS= read -r pattern || [[ -n $pattern ]]; do
  pattern=${pattern%$'\r'}
  [[ -z $pattern ]] && continue
  hit=$(tail -n +"$((pos + 1))" "$out" | grep -n -E -x -m 1 -- "$pattern" | head -n 1 | cut -d: -f1)
  if [[ -z $hit ]]; then
    echo "run_example: no output line (after line $pos of $total) matches expected line:" >&2
    echo "  $pattern" >&2
    echo "----- output -----" >&2
    cat "$out" >&2
    exit 1
  fi
  pos=$((pos + hit))
done <"$expected"
echo "run_example: OK ($(basename "$exe"))"
