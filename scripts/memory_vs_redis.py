#!/usr/bin/env python3
"""Memory per key: kvnode against redis-server, 1M keys with 100-byte values.

Loads the same keys (`key:0000000`..) into a fresh server of each kind with `redis-cli --pipe`, then
reads INFO memory: the allocator's bytes in use (used_memory: jemalloc stats.allocated for both) and the
resident set size, before and after, and prints bytes per key.

  python3 scripts/memory_vs_redis.py --kvnode .build/release/kvnode [--keys 1000000] [--value-size 100]
"""
import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def info_memory(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "memory"], capture_output=True, text=True).stdout
    return {k: v for k, v in (l.split(":", 1) for l in out.splitlines() if ":" in l)}


def wait_ready(port):
    for _ in range(200):
        if subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True).stdout.strip() == "PONG":
            return
        time.sleep(0.05)
    raise RuntimeError("server did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvnode", required=True)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--value-size", type=int, default=100)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="memcmp-")
    proto = os.path.join(work, "load.resp")
    value = b"x" * a.value_size
    with open(proto, "wb") as f:
        for i in range(a.keys):
            k = b"key:%07d" % i
            f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(value), value))
    rows = []
    for kind in ("kvnode", "redis"):
        port = free_port()
        if kind == "kvnode":
            cmd = [a.kvnode, "--port", str(port), "--data-dir", os.path.join(work, "kv"), "--log-level", "warning"]
        else:
            cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", work]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(port)
            before = info_memory(port)
            with open(proto, "rb") as f:
                subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=f, capture_output=True, check=True)
            time.sleep(1)
            after = info_memory(port)
            used = int(after["used_memory"]) - int(before["used_memory"])
            rss = int(after["used_memory_rss"]) - int(before["used_memory_rss"])
            rows.append((kind, after.get("mem_allocator", "?"), used / a.keys, rss / a.keys, int(after["used_memory"])))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    shutil.rmtree(work, ignore_errors=True)
    print(f"{a.keys} keys of {a.value_size} B (key length 11 B)")
    print(f"{'server':8} {'allocator':16} {'used B/key':>10} {'rss B/key':>10} {'used_memory':>12}")
    for kind, alloc, used, rss, total in rows:
        print(f"{kind:8} {alloc:16} {used:>10.1f} {rss:>10.1f} {total:>12}")
    print(f"ratio kvnode/redis used B/key: {rows[0][2] / rows[1][2]:.2f}")


if __name__ == "__main__":
    main()
