#!/usr/bin/env bash
# Fuzzes every decoder with libFuzzer for a time box (default 60 s per target):
#   RESPFuzz      client-command and reply parsers (split reads, small limits)
#   PeerFuzz      peer messages, stored objects, hints, sibling sets, contexts (+ round trips)
#   StorageFuzz   log records, the segment scanner, hint files
#   WorkloadFuzz  workload (.properties) files into a WorkloadSpec
#   ScenarioFuzz  scenario (YAML) files into a validated Scenario
# The targets are a separate package (Fuzz/) built with -sanitize=fuzzer,address into .build-fuzz.
# Seeds come from Fuzz/corpus/<target> (never modified: new inputs go to a temp folder).
# Exits non-zero on any crash, leak, timeout or OOM, printing the artifact and a replay command.
#   scripts/fuzz.sh [seconds-per-target] [target...]
# Targets run FUZZ_JOBS at a time (default: one per core).
# FUZZ_RUNS=N also stops each target after N inputs (whichever limit comes first), for long campaigns:
#   FUZZ_RUNS=10000000 FUZZ_CONFIG=release scripts/fuzz.sh 3600
# FUZZ_CONFIG=release builds the targets optimised (10-20x more inputs per second; CI uses debug).
# FUZZ_SCRATCH=DIR builds into DIR instead of .build-fuzz (two campaigns side by side, or one beside CI).
# `scripts/fuzz.sh --build-only` builds the targets and stops (scripts/test.sh does this in the background early
# on, so the timed run later finds them built).
# FUZZ_CORPUS_DIR=DIR keeps each target's corpus in DIR/<target> across runs (a long campaign can stop and go
# on where it was; the executions of its runs add up); by default new inputs go to a temp folder.
set -uo pipefail
cd "$(dirname "$0")/.."

build_only=0
if [ "${1:-}" = --build-only ]; then build_only=1; shift; fi
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(RESPFuzz PeerFuzz StorageFuzz WorkloadFuzz ScenarioFuzz)

declare -A max_len=([RESPFuzz]=4096 [PeerFuzz]=4096 [StorageFuzz]=8192 [WorkloadFuzz]=4096 [ScenarioFuzz]=4096)

scratch="${FUZZ_SCRATCH:-.build-fuzz}"
echo "== fuzz: build ($scratch)"
build_start=$(date +%s)
if ! swift build -c "${FUZZ_CONFIG:-debug}" --package-path Fuzz --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld \
    >/tmp/kvbench-fuzz-build.log 2>&1; then
    grep -E "error" /tmp/kvbench-fuzz-build.log | head -n 40
    tail -n 20 /tmp/kvbench-fuzz-build.log
    echo "fuzz build failed (log: /tmp/kvbench-fuzz-build.log)"
    exit 1
fi
echo "built in $(( $(date +%s) - build_start )) s"
[ "$build_only" = 1 ] && exit 0
bin=$(swift build -c "${FUZZ_CONFIG:-debug}" --package-path Fuzz --scratch-path "$scratch" --show-bin-path \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld)

work=$(mktemp -d /tmp/kvbench-fuzz.XXXXXX)
# run_target T: one libFuzzer process (single-threaded) for T; its exit status goes to $work/T/status.
run_target() {
    local t=$1 corpus="$work/$1/corpus"
    [ -n "${FUZZ_CORPUS_DIR:-}" ] && corpus="$FUZZ_CORPUS_DIR/$t"
    mkdir -p "$corpus" "$work/$t/artifacts"
    local dict=() runs=() seeds=()
    [ -f "Fuzz/dict/$t.dict" ] && dict=(-dict="Fuzz/dict/$t.dict")
    [ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
    [ -d "Fuzz/corpus/$t" ] && seeds=("Fuzz/corpus/$t")
    SWIFT_BACKTRACE=enable=no "$bin/$t" \
        -max_total_time="$seconds" -max_len="${max_len[$t]:-4096}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${runs[@]}" "${dict[@]}" -artifact_prefix="$work/$t/artifacts/" \
        "$corpus" "${seeds[@]}" >"$work/$t/log" 2>&1
    echo $? >"$work/$t/status"
}
# Each target is one process on one core: run FUZZ_JOBS of them at a time (default: one per core), so a time
# box of S seconds per target takes S x ceil(targets / jobs) of wall clock instead of S x targets.
jobs="${FUZZ_JOBS:-$(nproc)}"
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_target "$t" &
done
wait
failed=0
printf "%-13s %10s %10s %7s %s\n" target execs exec/s cov result
for t in "${targets[@]}"; do
    status=$(cat "$work/$t/status" 2>/dev/null || echo "?")
    execs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$work/$t/log" | grep -oE "[0-9]+$")
    rate=$(grep -oE "stat::average_exec_per_sec: *[0-9]+" "$work/$t/log" | grep -oE "[0-9]+$")
    cov=$(grep -oE "cov: [0-9]+" "$work/$t/log" | tail -n 1 | grep -oE "[0-9]+")
    artifact=$(ls "$work/$t/artifacts/" 2>/dev/null | head -n 1)
    if [ "$status" = 0 ] && [ -z "$artifact" ]; then
        printf "%-13s %10s %10s %7s %s\n" "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" ok
    else
        failed=1
        printf "%-13s %10s %10s %7s %s\n" "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "FAILED (exit $status)"
        grep -E "ERROR|SUMMARY|Fatal error|Precondition|deadly signal|leak|timeout|out-of-memory" "$work/$t/log" | head -n 12
        echo "  log:      $work/$t/log"
        if [ -n "$artifact" ]; then
            echo "  artifact: $work/$t/artifacts/$artifact"
            echo "  replay:   SWIFT_BACKTRACE=enable=no $bin/$t $work/$t/artifacts/$artifact"
        fi
    fi
done
if [ "$failed" -ne 0 ]; then
    echo "fuzzing found problems (work folder: $work)"
    exit 1
fi
rm -rf "$work"
