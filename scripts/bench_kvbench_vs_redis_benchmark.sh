#!/usr/bin/env bash
# kvbench against redis-benchmark, both driving the same redis-server: ops/s and client CPU per op
# (user+sys from /usr/bin/time). 50 connections, 100-byte values, 100k keys, pipeline 1 and 16, 3 reps.
# Needs /usr/bin/time (Debian package `time`) and a running redis-server on PORT.
# Usage: scripts/bench_kvbench_vs_redis_benchmark.sh PORT [path/to/kvbench]
# Prints lines: TOOL OP P=DEPTH OPS_PER_SEC CPU_US_PER_OP
set -euo pipefail
PORT=$1; K=${2:-.build/release/kvbench}
W="-p recordcount=100000 -p fieldcount=1 -p fieldlength=100 -p requestdistribution=uniform"
$K load redis --hosts 127.0.0.1:$PORT $W --threads 1 --connections 50 --pipeline 16 --quiet > /dev/null
for P in 1 16; do
  N=$([ $P = 1 ] && echo 400000 || echo 2000000)
  for rep in 1 2 3; do
    for OP in get set; do
      /usr/bin/time -f "%U %S" -o /tmp/drv-time redis-benchmark -p $PORT -c 50 -n $N -t $OP -P $P -d 100 -r 100000 -q > /tmp/drv-rb.out 2>&1
      RB=$(tr '\r' '\n' < /tmp/drv-rb.out | grep -i "requests per second" | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/')
      read U S < /tmp/drv-time
      echo "redis-benchmark $OP P=$P $RB $(python3 -c "print(round(($U+$S)/$N*1e6,3))")"
      MIX=$([ $OP = get ] && echo "-p readproportion=1 -p updateproportion=0" || echo "-p readproportion=0 -p updateproportion=1")
      /usr/bin/time -f "%U %S" -o /tmp/drv-time $K run redis --hosts 127.0.0.1:$PORT $W $MIX -p operationcount=$N --threads 1 --connections 50 --pipeline $P --quiet > /tmp/drv-kb.out 2>&1
      KB=$(grep "Throughput" /tmp/drv-kb.out | awk '{print $NF}')
      read U S < /tmp/drv-time
      echo "kvbench $OP P=$P $KB $(python3 -c "print(round(($U+$S)/$N*1e6,3))")"
    done
  done
done
