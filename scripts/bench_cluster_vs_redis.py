#!/usr/bin/env python3
"""A 3-node kvnode cluster (N=3, R=2, W=2) against a Redis primary with 2 replicas, and both single
servers, in the same sitting, with redis-benchmark against node 1 / the primary as the common client.

Default load is issue #4's figure: `redis-benchmark -t get,set -c 50 -P 1 -d 100` (one key, as
redis-benchmark uses without -r); `--keyspace 100000` adds -r. Setups alternate within each
repetition and the medians are printed: requests/s, p50/p99 (ms), and the CPU (cores) of all the
setup's server processes together. kvnode runs with fsync everysec; Redis with AOF off (its replicas
get every write asynchronously, and nothing waits for them: it acknowledges before replicating).

  python3 scripts/bench_cluster_vs_redis.py --kvnode .build/release/kvnode [--reps 3] [--requests 200000]
"""
import argparse
import csv
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_vs_redis import cpu_seconds, free_port, wait_ready  # noqa: E402
from cluster_test import free_base_port  # noqa: E402


def start_kvnode_cluster(args, work, size):
    base = free_base_port()
    seeds = ",".join(f"127.0.0.1:{base + i}" for i in range(size))
    procs = []
    for i in range(size):
        cmd = [args.kvnode, "--node-id", f"n{i + 1}", "--port", str(base + i), "--data-dir", os.path.join(work, f"n{i}"),
               "--seeds", seeds, "--fsync", "everysec", "--log-level", "warning", "--threads", str(args.kvnode_threads)]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for i in range(size):
        wait_ready(base + i)
    # Wait until node 1 coordinates (it has learned every member).
    import redis
    r = redis.Redis(port=base)
    for _ in range(200):
        if r.info("cluster").get("cluster_members_up") == size:
            break
        time.sleep(0.05)
    return procs, base


def start_redis(work, name, replica_of=None):
    port = free_port()
    d = os.path.join(work, name)
    os.makedirs(d)
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
           "--dir", d, "--daemonize", "no", "--logfile", os.path.join(d, "log")]
    if replica_of:
        cmd += ["--replicaof", "127.0.0.1", str(replica_of)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port)
    return proc, port


def start_setup(kind, args, work):
    if kind == "kvnode-cluster":
        return start_kvnode_cluster(args, work, 3)
    if kind == "kvnode-single":
        port = free_port()
        cmd = [args.kvnode, "--port", str(port), "--data-dir", os.path.join(work, "kv"), "--fsync", "everysec",
               "--log-level", "warning", "--threads", str(args.kvnode_threads)]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(port)
        return [p], port
    primary, port = start_redis(work, "primary")
    procs = [primary]
    if kind == "redis-replicated":
        import redis
        for i in range(2):
            procs.append(start_redis(work, f"replica{i}", replica_of=port)[0])
        r = redis.Redis(port=port)
        for _ in range(200):
            if r.info("replication").get("connected_slaves") == 2:
                break
            time.sleep(0.05)
    return procs, port


def bench(port, args):
    cmd = ["redis-benchmark", "-p", str(port), "-t", "set,get", "-n", str(args.requests), "-d", "100", "-c", "50",
           "-P", "1", "--csv", "--precision", "3"]
    if args.keyspace:
        cmd += ["-r", str(args.keyspace)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200).stdout
    rows = {}
    for row in csv.reader(io.StringIO(out)):
        if row and row[0] != "test":
            rows[row[0]] = {"rps": float(row[1]), "p50": float(row[4]), "p99": float(row[6])}
    return rows


def one_run(kind, args):
    work = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    procs, port = start_setup(kind, args, work)
    try:
        c0, t0 = sum(cpu_seconds(p.pid) for p in procs), time.time()
        rows = bench(port, args)
        cpu = (sum(cpu_seconds(p.pid) for p in procs) - c0) / (time.time() - t0)
        for r in rows.values():
            r["cpu"] = cpu
        return rows
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvnode", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--keyspace", type=int, default=0, help="redis-benchmark -r (0: one key, the issue's command)")
    ap.add_argument("--kvnode-threads", type=int, default=1)
    ap.add_argument("--setups", default="kvnode-cluster,redis-replicated,kvnode-single,redis-single")
    args = ap.parse_args()
    args.kvnode = os.path.abspath(args.kvnode)
    setups = args.setups.split(",")
    results = {}
    for rep in range(args.reps):
        for kind in setups:
            for test, r in one_run(kind, args).items():
                results.setdefault((kind, test), []).append(r)
                print(f"rep{rep} {kind:16} {test:4} {r['rps']:>9.0f} req/s p50 {r['p50']:.3f} p99 {r['p99']:.3f} ms "
                      f"cpu {r['cpu']:.2f}", flush=True)
    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    print(f"\nmedians of {args.reps} (redis-benchmark -c 50 -P 1 -d 100{' -r ' + str(args.keyspace) if args.keyspace else ''}):")
    print(f"{'setup':16} {'test':4} {'req/s':>9} {'p50':>7} {'p99':>7} {'cpu':>5} {'vs redis-single':>15}")
    for test in ("SET", "GET"):
        base = results.get(("redis-single", test))
        for kind in setups:
            rs = results.get((kind, test))
            if not rs:
                continue
            ratio = f"{med(rs, 'rps') / med(base, 'rps'):.2f}" if base else "-"
            print(f"{kind:16} {test:4} {med(rs, 'rps'):>9.0f} {med(rs, 'p50'):>7.3f} {med(rs, 'p99'):>7.3f} "
                  f"{med(rs, 'cpu'):>5.2f} {ratio:>15}")


if __name__ == "__main__":
    sys.exit(main())
