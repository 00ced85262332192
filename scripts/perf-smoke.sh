#!/usr/bin/env bash
# Perf smoke: the CI performance gate (`scripts/test.sh` runs it last; a few minutes with the build).
#
# Builds kvbench in release, then measures ROUNDS rounds (default 7) of three short single-threaded runs,
# back to back:
#   calibration  a fixed CPU-bound Python loop (not our code): how fast this machine is right now
#   null         kvbench run null: the generator, key naming, value pool and histogram recording
#   embedded     kvbench run embedded: the same plus the storage engine's get/set path
# and compares them with the committed baseline (Benchmarks/perf-baseline/) using `kvbench compare`:
#   gate 1  embedded throughput and p50/p99 service time per operation type, as the excess over the null
#           run of the same round (`--reference-mode excess`: what the storage path adds on top of the
#           generator and the timer, so a 2x slower storage path reads as 2x, although it is only about
#           half of an embedded operation's time). Catches regressions in the storage path. Service-time
#           percentiles are the steady signal on a shared machine (a neighbour preempts us, which moves
#           throughput and the far tail, but rarely the p50/p99 of sub-microsecond operations).
#   gate 2  null throughput as a ratio to the calibration loop of the same round
#           (catches regressions in the generator and recorder)
# Each gate fails on more than a 1.5x slowdown (LIMIT) that is larger than the spread among the rounds.
# A failing gate is measured once more; only a regression seen twice fails the smoke (a neighbour's
# build can slow one batch of runs, it rarely slows two the same way).
#
#   scripts/perf-smoke.sh                    # compare with the baseline; exit 1 on a regression
#   scripts/perf-smoke.sh --update-baseline  # measure and write Benchmarks/perf-baseline/ (commit it)
# Environment: KVBENCH_BIN (a release kvbench to use instead of building), ROUNDS, LIMIT (default 1.5x),
# PERF_OUT (work directory, default a fresh temporary one).
set -euo pipefail
cd "$(dirname "$0")/.."

update=0
[ "${1:-}" = "--update-baseline" ] && update=1
rounds=${ROUNDS:-7}
limit=${LIMIT:-1.5x}
baseline=Benchmarks/perf-baseline
out=${PERF_OUT:-$(mktemp -d /tmp/kvbench-perf-smoke.XXXXXX)}
# Fixed workload: workload A's mix (50 % reads, 50 % updates, zipfian), 10k records of 100 bytes, one thread;
# about half a second per run on an idle machine (the null binding is ~4x faster, so it gets more operations).
workload=(-P workloads/workloada -p recordcount=10000 -p fieldcount=1 -p fieldlength=100 -p seed=42 --threads 1 --quiet)
null_ops=1500000
embedded_ops=500000

if [ -n "${KVBENCH_BIN:-}" ]; then
    bin=$KVBENCH_BIN
else
    echo "== perf smoke: swift build -c release --product kvbench"
    start=$(date +%s)
    if ! swift build -c release --product kvbench >/tmp/kvbench-perf-build.log 2>&1; then
        tail -n 40 /tmp/kvbench-perf-build.log
        echo "perf smoke: release build failed"
        exit 1
    fi
    echo "   built in $(( $(date +%s) - start )) s"
    bin=.build/release/kvbench
fi

# A fixed CPU-bound loop in Python, written as a summary.json so `kvbench compare` can use it as a reference.
calibrate() {
    python3 - "$1" <<'EOF'
import json, os, sys, time
n = 3_000_000
start = time.perf_counter()
x = 0
for i in range(n):
    x = (x * 6364136223846793005 + i) & 0xFFFFFFFFFFFFFFFF
elapsed = time.perf_counter() - start
stats = {"count": n, "mean_us": 0, "min_us": 0, "p50_us": 0, "p90_us": 0, "p99_us": 0, "p999_us": 0, "p9999_us": 0, "max_us": 0}
summary = {"binding": "calibration", "phase": "run", "threads": 1, "open_loop": False, "offered_ops": 0,
           "achieved_ops": n / elapsed, "elapsed_s": elapsed, "operations": n, "errors": 0, "start_time": time.time(),
           "scheduled": n, "overall": stats, "operations_detail": [], "nodes": [],
           "notes": ["calibration loop of scripts/perf-smoke.sh, checksum %d" % x]}
os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], "summary.json"), "w") as f:
    json.dump(summary, f)
EOF
}

# measure DIR: ROUNDS rounds of calibration, null and embedded into DIR/<kind>/run-<i>/.
measure() {
    local dir=$1
    rm -rf "$dir"
    "$bin" run embedded "${workload[@]}" -p operationcount=100000 >/dev/null   # warm-up: page cache, CPU frequency
    for i in $(seq 1 "$rounds"); do
        calibrate "$dir/calibration/run-$i"
        "$bin" run null "${workload[@]}" -p operationcount=$null_ops --out "$dir/null/run-$i" >/dev/null
        "$bin" run embedded "${workload[@]}" -p operationcount=$embedded_ops --out "$dir/embedded/run-$i" >/dev/null
    done
}

# gates BASE CUR: both comparisons; prints the tables; returns 1 on a regression, 2 on bad input.
gates() {
    local base=$1 cur=$2 status=0 rc
    echo "-- gate 1: embedded (storage path), excess over the null run of the same round"
    set +e
    "$bin" compare "$base/embedded" "$cur/embedded" --baseline-reference "$base/null" --current-reference "$cur/null" \
        --reference-mode excess --max-throughput-drop "$limit" --max-latency-rise "$limit" --percentile 50 --percentile 99
    rc=$?
    [ "$rc" -gt "$status" ] && status=$rc
    echo "-- gate 2: null (generator and recorder), ratios to the calibration loop of the same round"
    "$bin" compare "$base/null" "$cur/null" --baseline-reference "$base/calibration" --current-reference "$cur/calibration" \
        --max-throughput-drop "$limit" --throughput-only --overall-only
    rc=$?
    [ "$rc" -gt "$status" ] && status=$rc
    set -e
    return "$status"
}

if [ "$update" = 1 ]; then
    echo "== perf smoke: measuring a new baseline ($rounds rounds)"
    measure "$out/new"
    rm -rf "$baseline"
    for kind in calibration null embedded; do
        for run in "$out/new/$kind"/run-*; do
            mkdir -p "$baseline/$kind/$(basename "$run")"
            cp "$run/summary.json" "$baseline/$kind/$(basename "$run")/summary.json"
        done
    done
    echo "   wrote $baseline; review and commit it. Check it against itself:"
    gates "$baseline" "$out/new"
    exit 0
fi

[ -d "$baseline" ] || { echo "perf smoke: no baseline in $baseline (scripts/perf-smoke.sh --update-baseline)"; exit 2; }
echo "== perf smoke: $rounds rounds of calibration / null / embedded (workload A, 10k records of 100 B, 1 thread)"
start=$(date +%s)
measure "$out/current"
status=0
gates "$baseline" "$out/current" || status=$?
if [ "$status" = 1 ]; then
    echo "== perf smoke: regression reported; measuring again to rule out a noisy neighbour"
    measure "$out/retry"
    status=0
    gates "$baseline" "$out/retry" || status=$?
fi
echo "   measured in $(( $(date +%s) - start )) s; runs in $out"
case "$status" in
    0) echo "perf smoke: ok" ;;
    1) echo "perf smoke: REGRESSION (seen twice)" ;;
    *) echo "perf smoke: bad input (exit $status)" ;;
esac
exit "$status"
