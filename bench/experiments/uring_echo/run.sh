#!/bin/bash
# Interleaved rounds; each run waits (bounded) for the machine to be quiet. Prints: variant rate busy%
N=${N:-1000000}; R=${R:-5}
TOKIO=$HOME/.cache/rill-anchors/bin/tokio-anchors
RILL=/work/main/build/release/bench/rill_bench
busy() { read -r _ a b c d e f g h rest < /proc/stat; t1=$((a+b+c+d+e+f+g+h)); i1=$((d+e)); sleep 0.5
         read -r _ a b c d e f g h rest < /proc/stat; t2=$((a+b+c+d+e+f+g+h)); i2=$((d+e));
         echo $(( 100 - 100*(i2-i1)/(t2-t1) )); }
quiet() { for k in $(seq 6); do b=$(busy); [ $b -le 15 ] && { echo $b; return; }; done; echo $b; }
declare -A CMD=(
 [tokio]="$TOKIO tcp_echo $N"
 [rill]="$RILL tcp_echo $N"
 [epoll_same]="./echo epoll same $N"
 [epoll_cross]="./echo epoll cross $N"
 [epollc_same]="./echo epollc same $N"
 [uring_same]="./echo uring same $N"
 [uring_same_defer]="./echo uring same $N defer"
 [uring_same_coop_trf]="./echo uring same $N coop,taskrunflag"
 [uring_cross_defer]="./echo uring cross $N defer"
)
ORDER=${ORDER:-"tokio rill epoll_same epoll_cross epollc_same uring_same uring_same_defer uring_same_coop_trf uring_cross_defer"}
for r in $(seq $R); do
 for v in $ORDER; do
  b=$(quiet)
  out=$(timeout 120 ${CMD[$v]} 2>&1) || out="FAIL rc=$? $out"
  rate=$(echo "$out" | grep -o 'rate=[0-9.]*' | head -1 | cut -d= -f2)
  echo "$r $v ${rate:-FAIL} busy=$b"
 done
done
