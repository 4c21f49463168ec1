#!/bin/bash
# CPU cost per round trip (user+sys us/rt), less sensitive to a busy machine than wall rate
N=${N:-300000}; R=${R:-3}
TOKIO=$HOME/.cache/rill-anchors/bin/tokio-anchors
RILL=/work/main/build/release/bench/rill_bench
declare -A CMD=(
 [tokio]="$TOKIO tcp_echo $N" [rill]="$RILL tcp_echo $N"
 [epoll_same]="./echo epoll same $N" [epoll_cross]="./echo epoll cross $N"
 [epollc_same]="./echo epollc same $N" [uring_same]="./echo uring same $N"
 [uring_same_defer]="./echo uring same $N defer" [uring_cross_defer]="./echo uring cross $N defer")
for r in $(seq $R); do for v in tokio rill epoll_same epoll_cross epollc_same uring_same uring_same_defer uring_cross_defer; do
  o=$( { /usr/bin/time -f "T %U %S %e" timeout 120 ${CMD[$v]} >/dev/null; } 2>&1 | grep '^T ')
  echo "$r $v $(echo $o | awk -v n=$N '{printf "%.2f us_cpu/rt user=%s sys=%s wall=%s", ($2+$3)*1e6/n, $2,$3,$4}')"
done; done
