#!/usr/bin/env bash
# The main job: a YCSB workload (default workloads/workloada, 100k records, 1M operations) against the
# embedded in-process 3-node cluster (the default binding), then the same workload against a real kvnode process over RESP.
# Results land in out/embedded and out/kvnode (summary.txt/csv/json, timeseries.csv, nodes.csv, .hlog).
#   WORKLOAD=workloads/workloadb RECORDS=100000 OPS=1000000 scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${KVBENCH_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh --no-python
workload=${WORKLOAD:-workloads/workloada}
records=${RECORDS:-100000}
ops=${OPS:-1000000}
bash scripts/build-release.sh --product kvbench >/dev/null
bash scripts/build-release.sh --product kvnode >/dev/null
bin=.build/release
mkdir -p out

echo "== kvbench run embedded -P $workload (in-process 3-node cluster; recordcount=$records operationcount=$ops)"
"$bin/kvbench" run embedded -P "$workload" -p recordcount="$records" -p operationcount="$ops" \
    --threads 8 --out out/embedded --quiet

port=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
data=$(mktemp -d /tmp/kvnode-run.XXXXXX)
"$bin/kvnode" --port "$port" --data-dir "$data" --fsync everysec --log-level warning &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
echo "== kvbench load/run kvnode (127.0.0.1:$port, 50 connections)"
"$bin/kvbench" load kvnode --hosts "127.0.0.1:$port" -P "$workload" -p recordcount="$records" \
    --connections 25 --threads 2 --quiet >/dev/null
"$bin/kvbench" run kvnode --hosts "127.0.0.1:$port" -P "$workload" -p recordcount="$records" \
    -p operationcount="$ops" --connections 25 --threads 2 --out out/kvnode --quiet
redis-cli -p "$port" INFO memory | grep -E "^(used_memory|mem_allocator|used_memory_per_key):"
