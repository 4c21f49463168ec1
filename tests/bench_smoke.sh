#!/usr/bin/env bash
# Smoke test of rill_bench's output contract (../shared/anchors/README.md §1).
# usage: bench_smoke.sh RILL_BENCH [NAMES_TXT]
#
# NAMES_TXT (default: bench/names.txt next to this script's tests/ dir) lists
# "name n" pairs, one per line; blank lines and lines starting with # are
# skipped. For each, `rill_bench name n` must exit 0 and print exactly one line
# on stdout in the anchors' format. `rill_bench no_such_bench 10` must fail.
set -uo pipefail
bench=$1
names=${2:-$(dirname "$0")/../bench/names.txt}
fail=0

num='[0-9.e+-]+'
for_name() { # regex for one bench name (escape ERE metacharacters)
  local n
  n=$(printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g')
  printf '^bench=%s n=[0-9]+ secs=%s rate=%s rss_mb=[0-9.]+( bytes_per_task=[0-9.-]+)?$' "$n" "$num" "$num"
}

if [[ -f $names ]]; then
  while read -r name n rest || [[ -n ${name:-} ]]; do
    [[ -z ${name:-} || $name == \#* ]] && continue
    if [[ -z ${n:-} ]]; then
      echo "FAIL names.txt line '$name': want 'name n'"
      fail=1
      continue
    fi
    out=$(timeout --kill-after=10 300 "$bench" "$name" "$n" </dev/null)
    rc=$?
    re=$(for_name "$name")
    lines=$(printf '%s' "$out" | grep -c '')
    if [[ $rc -ne 0 ]]; then
      echo "FAIL $name $n: exit status $rc; stdout:"; printf '%s\n' "$out"; fail=1
    elif [[ $lines -ne 1 ]]; then
      echo "FAIL $name $n: want exactly 1 stdout line, got $lines:"; printf '%s\n' "$out"; fail=1
    elif ! [[ $out =~ $re ]]; then
      echo "FAIL $name $n: line does not match $re:"; printf '%s\n' "$out"; fail=1
    else
      echo "ok   $out"
    fi
  done <"$names"
else
  echo "bench_smoke: no $names, only checking the unknown-name case"
fi

if "$bench" no_such_bench 10 >/dev/null 2>&1; then
  echo "FAIL rill_bench no_such_bench 10 exited 0 (must be non-zero)"
  fail=1
else
  echo "ok   unknown bench name rejected"
fi
exit $fail
