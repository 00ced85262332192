#!/usr/bin/env bash
# Client-compatibility and hostile-input checks against real kvnode processes:
# redis-cli, redis-benchmark and redis-py unchanged, plus malformed frames, oversized bulks,
# half frames, a password-protected node, and 10k idle connections.
# Usage: scripts/compat-test.sh PATH/TO/kvnode
set -euo pipefail
KVNODE=${1:-.build/debug/kvnode}
[ -x "$KVNODE" ] || { echo "compat-test: $KVNODE not found (run swift build first)"; exit 2; }
work=$(mktemp -d /tmp/kvnode-compat.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Picks a free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

start_node() { # name port extra-args...
    local name=$1 port=$2; shift 2
    mkdir -p "$work/$name"
    "$KVNODE" --port "$port" --data-dir "$work/$name/data" --log-level warning "$@" >"$work/$name/log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        if redis-cli -p "$port" ${AUTHARG:-} PING >/dev/null 2>&1 || grep -q "NOAUTH" <(redis-cli -p "$port" PING 2>&1); then return 0; fi
        sleep 0.1
    done
    echo "node $name did not start:"; cat "$work/$name/log"; return 1
}

PORT=$(free_port)
start_node plain "$PORT" --max-bulk-len 1048576 --max-args 1000 --max-clients 11000
PW_PORT=$(free_port)
start_node secured "$PW_PORT" --requirepass 's3cret pass'

SMALL_PORT=$(free_port)
start_node small "$SMALL_PORT" --max-clients 3

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
python3 scripts/compat_test.py --port "$PORT" --password-port "$PW_PORT" --password 's3cret pass' --small-port "$SMALL_PORT" --kvnode-log "$work/plain/log"
