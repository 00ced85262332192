#!/usr/bin/env bash
# Installs what KVBench needs on a fresh Debian machine, idempotently:
#   system libraries: libxxhash-dev (hashing), libjemalloc-dev (allocator)
#   test/benchmark tools: redis-server + redis-tools (peer and client), iproute2 + iptables (partition and chaos
#   tests in a private network namespace), openssl (test certificates for the TLS tests), python3 redis client,
#   matplotlib (plots)
# Usage: scripts/setup.sh [--no-python]
set -euo pipefail

want_python=1
[ "${1:-}" = "--no-python" ] && want_python=0

packages=(libxxhash-dev libjemalloc-dev pkg-config redis-server redis-tools iproute2 iptables openssl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts a redis-server service on install; the project starts its own on other ports.
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop redis-server 2>/dev/null || true; fi
else
    echo "setup: system packages present"
fi

if [ "$want_python" = 1 ]; then
    if ! python3 -c 'import redis, matplotlib' 2>/dev/null; then
        echo "setup: installing python packages (redis, matplotlib)"
        python3 -m pip install --quiet --disable-pip-version-check redis matplotlib
    else
        echo "setup: python packages present"
    fi
fi
