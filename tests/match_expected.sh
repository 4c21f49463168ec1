#!/usr/bin/env bash
# match_expected OUTPUT_FILE EXPECTED_TXT: every non-empty line of EXPECTED_TXT is an
# extended regex (grep -E -x: it must match a whole output line); the lines must match in
# order, each one a line after the one matched by the previous. Unmatched output lines
# are allowed. On a miss, prints the pattern and the output and exits 1.
# (Used by run_example.sh and sigint_child.sh.)
set -uo pipefail
out=$1 expected=$2
total=$(wc -l <"$out")
pos=0   # number of output lines already consumed
while IFS= read -r pattern || [[ -n $pattern ]]; do
  pattern=${pattern%$'\r'}
  [[ -z $pattern ]] && continue
  hit=$(tail -n +"$((pos + 1))" "$out" | grep -n -E -x -m 1 -- "$pattern" | head -n 1 | cut -d: -f1)
  if [[ -z $hit ]]; then
    echo "match_expected: no output line (after line $pos of $total) matches expected line:" >&2
    echo "  $pattern" >&2
    echo "----- output -----" >&2
    cat "$out" >&2
    exit 1
  fi
  pos=$((pos + hit))
done <"$expected"
exit 0
