#!/usr/bin/env bash
# Builds the release binaries the way scripts/run.sh and the perf smoke do (and the figures from 2026-12-05 on):
#   swift build -c release -Xswiftc -enforce-exclusivity=unchecked [ARGS...]
# Swift checks exclusive access to class properties and globals at run time, in release builds too. In
# SwiftNIO's per-read and per-flush path those checks (swift_beginAccess and its thread-local access set) were
# ~2,300 of kvbench's ~11,500 instructions per request at pipeline depth 1, and ~8-10 % at depth 16 (callgrind,
# 100k requests against redis-server). The flag drops the run-time checks in every module, dependencies
# included; the compile-time checks stay, and the debug build the tests run (`scripts/test.sh`) keeps the
# run-time ones, so a violation in our code still traps there.
# Extra arguments go to `swift build` (e.g. --product kvbench, --show-bin-path).
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift build -c release -Xswiftc -enforce-exclusivity=unchecked "$@"
