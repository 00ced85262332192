#!/usr/bin/env bash
# kvbench against redis-benchmark, both driving the same redis-server: ops/s and client CPU per op
# (user+sys from /usr/bin/time, all threads). 50 connections, 100-byte values, 100k keys, pipeline 1 and 16,
# the two clients alternating, REPS repetitions (default 3); ends with the medians and the ratios.
# Needs /usr/bin/time (Debian package `time`) and a running redis-server on PORT.
# Usage: scripts/bench_kvbench_vs_redis_benchmark.sh PORT [path/to/kvbench]
#   CLIENT_CPU=1  pins both clients to that CPU (taskset), so neither shares a core with the server when the
#                 server is pinned elsewhere (`taskset -c 0 redis-server ...`); unpinned, a client that the
#                 scheduler moves onto the server's core pays for it in CPU time and the comparison is noisier.
#   REPS=5        repetitions.
#   KEYS=ycsb     kvbench's keys as YCSB names them by default (`user` + a hashed number of up to 19 digits).
#                 By default kvbench names its keys as redis-benchmark does (keyprefix=key:, insertorder=ordered,
#                 zeropadding=12: `key:000000012345`), so both clients send byte-for-byte the same commands over
#                 the same 100k keys. At depth 16 redis-server is the bottleneck, and most of its time goes to
#                 cache misses in its dict lookups, so the ops/s of two clients compare cleanly over the same keys.
# Prints lines: TOOL OP P=DEPTH OPS_PER_SEC CPU_US_PER_OP USER_S SYS_S SERVER_CPU_US_PER_OP, then the median
# table. The server's CPU per op (its user+sys time from /proc while one client ran, when the server is local)
# says which client's traffic costs the server more: where the server is saturated, that sets ops/s.
set -euo pipefail
PORT=$1; K=${2:-.build/release/kvbench}
REPS=${REPS:-3}
pin=()
[ -n "${CLIENT_CPU:-}" ] && pin=(taskset -c "$CLIENT_CPU")
W="-p recordcount=100000 -p fieldcount=1 -p fieldlength=100 -p requestdistribution=uniform"
[ "${KEYS:-}" = ycsb ] || W="$W -p keyprefix=key: -p insertorder=ordered -p zeropadding=12"
# The server's user+sys CPU ticks so far (0 when it is not a local process we can read).
server_pid=$(redis-cli -p "$PORT" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
server_ticks() { [ -r "/proc/${server_pid:-none}/stat" ] && awk '{print $14+$15}' "/proc/$server_pid/stat" || echo 0; }
tick_hz=$(getconf CLK_TCK)
results=$(mktemp /tmp/kvbench-vs-rb.XXXXXX)
trap 'rm -f "$results" /tmp/drv-time /tmp/drv-rb.out /tmp/drv-kb.out' EXIT
"$K" load redis --hosts 127.0.0.1:$PORT $W --threads 1 --connections 50 --pipeline 16 --quiet > /dev/null
# redis-benchmark's own keys (key:000000000000 ... with -r 100000) exist too before its first GET, which would
# otherwise read mostly missing keys (5-byte null replies instead of 100-byte values) in the first repetition.
redis-benchmark -p "$PORT" -c 50 -n 400000 -t set -P 16 -d 100 -r 100000 -q > /dev/null 2>&1
report() {  # TOOL OP P N OPS SERVER_TICKS: reads /tmp/drv-time
    local U S
    read -r U S < /tmp/drv-time
    echo "$1 $2 P=$3 $5 $(python3 -c "print(round(($U+$S)/$4*1e6,3), $U, $S, round($6/$tick_hz/$4*1e6,3))")" | tee -a "$results"
}
for P in 1 16; do
  N=$([ $P = 1 ] && echo 400000 || echo 2000000)
  for rep in $(seq "$REPS"); do
    for OP in get set; do
      t0=$(server_ticks)
      /usr/bin/time -f "%U %S" -o /tmp/drv-time "${pin[@]}" redis-benchmark -p $PORT -c 50 -n $N -t $OP -P $P -d 100 -r 100000 -q > /tmp/drv-rb.out 2>&1
      RB=$(tr '\r' '\n' < /tmp/drv-rb.out | grep -i "requests per second" | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/')
      report redis-benchmark $OP $P $N "$RB" $(( $(server_ticks) - t0 ))
      MIX=$([ $OP = get ] && echo "-p readproportion=1 -p updateproportion=0" || echo "-p readproportion=0 -p updateproportion=1")
      t0=$(server_ticks)
      /usr/bin/time -f "%U %S" -o /tmp/drv-time "${pin[@]}" "$K" run redis --hosts 127.0.0.1:$PORT $W $MIX -p operationcount=$N --threads 1 --connections 50 --pipeline $P --quiet > /tmp/drv-kb.out 2>&1
      KB=$(grep "Throughput" /tmp/drv-kb.out | awk '{print $NF}')
      report kvbench $OP $P $N "$KB" $(( $(server_ticks) - t0 ))
    done
  done
done
python3 - "$results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    tool, op, p, ops, cpu, _, _, server = line.split()
    rows.setdefault((op, p), {}).setdefault(tool, []).append((float(ops), float(cpu), float(server)))
# Medians, and the lowest CPU per op of each client: on a shared host other tenants only ever add to a run's
# CPU time (cache and memory contention), so the lowest of several runs is the least disturbed estimate.
print("\nmedians (kvbench / redis-benchmark), the lowest CPU per op of each, and the server's CPU per op:")
print(f"{'config':<10} {'kvbench ops/s':>14} {'rb ops/s':>10} {'ratio':>6} {'kvbench µs/op':>14} {'rb µs/op':>9} {'ratio':>6}"
      f" {'lowest kvb':>11} {'lowest rb':>10} {'ratio':>6} {'server kvb':>11} {'server rb':>10}")
for (op, p), tools in sorted(rows.items(), key=lambda kv: (int(kv[0][1][2:]), kv[0][0])):
    k, r = tools["kvbench"], tools["redis-benchmark"]
    ko, ro = statistics.median(x for x, _, _ in k), statistics.median(x for x, _, _ in r)
    kc, rc = statistics.median(c for _, c, _ in k), statistics.median(c for _, c, _ in r)
    kl, rl = min(c for _, c, _ in k), min(c for _, c, _ in r)
    ks, rs = statistics.median(s for _, _, s in k), statistics.median(s for _, _, s in r)
    print(f"{p + ' ' + op.upper():<10} {ko:>14.0f} {ro:>10.0f} {ko / ro:>6.2f} {kc:>14.3f} {rc:>9.3f} {kc / rc:>6.2f}"
          f" {kl:>11.3f} {rl:>10.3f} {kl / rl:>6.2f} {ks:>11.3f} {rs:>10.3f}")
EOF
