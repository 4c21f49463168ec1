#!/usr/bin/env bash
# readme_sync: the first ```cpp block of README.md must be examples/readme/main.cpp
# without its first line (a comment), so the example users copy is the one the tests run.
set -euo pipefail
readme=$1
example=$2
if ! diff -u <(tail -n +2 "$example") <(awk '/^```cpp/{f=1;next} /^```/{if(f){exit}} f' "$readme"); then
  echo "readme_sync: README.md's example differs from $example (see the diff above)" >&2
  exit 1
fi
echo "readme_sync: README.md's example is examples/readme/main.cpp"
