#!/usr/bin/env bash
# The main job: build kvnode (release), start it on a free port with --fsync everysec, drive it with
# redis-benchmark (GET/SET, 100-byte values, 50 clients, with and without pipelining), print its INFO,
# and stop it gracefully. Later this becomes the default `kvbench run` against the embedded cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${KVBENCH_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh --no-python
swift build -c release --product kvnode >/dev/null
port=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
data=$(mktemp -d /tmp/kvnode-run.XXXXXX)
.build/release/kvnode --port "$port" --data-dir "$data" --fsync everysec &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
for p in 1 16; do
    echo "== redis-benchmark -t get,set -n ${REQUESTS:-200000} -r 100000 -d 100 -c 50 -P $p"
    redis-benchmark -p "$port" -t get,set -n "${REQUESTS:-200000}" -r 100000 -d 100 -c 50 -P "$p" -q
done
redis-cli -p "$port" INFO memory | grep -E "used_memory:|mem_allocator|per_key"
redis-cli -p "$port" INFO persistence | grep -E "appendfsync|fsyncs|disk_bytes"
