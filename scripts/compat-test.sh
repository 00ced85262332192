#!/usr/bin/env bash
# Client-compatibility and hostile-input checks against real kvnode processes:
# redis-cli, redis-benchmark and redis-py unchanged, plus malformed frames, oversized bulks,
# half frames, a password-protected node, 10k idle connections, and a TLS node (redis-cli --tls,
# redis-benchmark --tls and redis-py with ssl; a plain client and an untrusted CA refused).
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

TLS_PORT=$(free_port)
bash scripts/make-test-certs.sh "$work/certs" >/dev/null
mkdir -p "$work/tls"
"$KVNODE" --port "$TLS_PORT" --data-dir "$work/tls/data" --log-level warning --requirepass tlspw \
    --tls-cert "$work/certs/node.crt" --tls-key "$work/certs/node.key" >"$work/tls/log" 2>&1 &
pids+=($!)
tls_cli() { redis-cli -p "$TLS_PORT" --tls --cacert "$work/certs/ca.crt" --no-auth-warning -a tlspw "$@"; }
for _ in $(seq 1 100); do [ "$(tls_cli PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
tls_fail() { echo "compat-test (TLS): $1"; cat "$work/tls/log"; exit 1; }
[ "$(tls_cli PING)" = PONG ] || tls_fail "redis-cli --tls PING"
[ "$(tls_cli SET tlskey tlsvalue)" = OK ] && [ "$(tls_cli GET tlskey)" = tlsvalue ] || tls_fail "redis-cli --tls SET/GET"
bench=$(redis-benchmark -p "$TLS_PORT" --tls --cacert "$work/certs/ca.crt" -a tlspw -t set,get -n 5000 -c 10 -P 4 -q 2>&1 | tr '\r' '\n')
echo "$bench" | grep -qE "^SET: [0-9.]+ requests per second" && echo "$bench" | grep -qE "^GET: [0-9.]+" \
    || tls_fail "redis-benchmark --tls: $bench"
python3 - "$TLS_PORT" "$work/certs/ca.crt" <<'PY' || tls_fail "redis-py over TLS"
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[2], password="tlspw")
r.set("py", b"x" * 200000)
assert r.get("py") == b"x" * 200000
PY
[ "$(redis-cli -p "$TLS_PORT" -a tlspw --no-auth-warning PING 2>/dev/null)" != PONG ] || tls_fail "a plain client was answered on the TLS port"
[ "$(redis-cli -p "$TLS_PORT" --tls --cacert "$work/certs/rogue-ca.crt" -a tlspw --no-auth-warning PING 2>/dev/null)" != PONG ] \
    || tls_fail "redis-cli trusting another CA accepted the node's certificate"
echo "ok   TLS: redis-cli, redis-benchmark ($(echo "$bench" | grep -oE "^(SET|GET): [0-9.]+" | tr '\n' ' ')req/s) and redis-py over TLS; plain and untrusted clients refused"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
python3 scripts/compat_test.py --port "$PORT" --password-port "$PW_PORT" --password 's3cret pass' --small-port "$SMALL_PORT" --kvnode-log "$work/plain/log"
