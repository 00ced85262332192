#!/usr/bin/env python3
"""What cluster-aware routing buys: `kvbench run kvnode` against one 3-node kvnode cluster (default N=3, R=2,
W=2, fsync everysec), with routing on (each operation to a replica of its key, owner first) and off
(`--no-cluster-routing`: any member coordinates). One `kvbench load`, then the two modes alternate within
each repetition; medians of throughput and OVERALL p50/p99 (from summary.csv) are printed, plus the CPU
(cores) of the three kvnode processes together and the peer messages they sent per operation.

  python3 scripts/bench_cluster_routing.py --kvnode .build/release/kvnode --kvbench .build/release/kvbench \
      [--reps 3] [--workload workloads/workloada] [--records 100000] [--ops 300000] [--connections 4 --pipeline 1]
"""
import argparse
import csv
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_vs_redis import cpu_seconds, wait_ready  # noqa: E402
from cluster_test import free_base_port  # noqa: E402


def info_cluster(port):
    """INFO cluster as a dict (a raw RESP exchange: no client library needed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"*2\r\n$4\r\nINFO\r\n$7\r\ncluster\r\n")
        data = b""
        while b"\r\n" not in data:
            data += s.recv(65536)
        header, rest = data.split(b"\r\n", 1)
        length = int(header[1:])
        while len(rest) < length:
            rest += s.recv(65536)
    fields = {}
    for line in rest[:length].decode().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


def peer_messages(ports):
    time.sleep(0.3)  # INFO's snapshot refreshes every 100 ms
    return sum(int(info_cluster(p).get("cluster_peer_messages_out", 0)) for p in ports)


def kvbench(args, phase, hosts, out, extra=()):
    cmd = [args.kvbench, phase, "kvnode", "--hosts", hosts, "-P", args.workload, "-p", f"recordcount={args.records}",
           "-p", f"operationcount={args.ops}", "--threads", str(args.threads), "--connections", str(args.connections),
           "--pipeline", str(args.pipeline), "--quiet", "--out", out, *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=1800)
    with open(os.path.join(out, "summary.csv")) as f:
        rows = {r["operation"]: r for r in csv.DictReader(f)}
    o = rows["OVERALL"]
    return {"ops": float(o["throughput_ops"]), "p50": float(o["p50_us"]), "p99": float(o["p99_us"]),
            "errors": int(o["errors"]), "count": int(o["count"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvnode", required=True)
    ap.add_argument("--kvbench", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workload", default="workloads/workloada")
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--ops", type=int, default=300000)
    ap.add_argument("--threads", type=int, default=1, help="kvbench worker threads")
    ap.add_argument("--connections", type=int, default=4, help="per member per thread")
    ap.add_argument("--pipeline", type=int, default=1)
    ap.add_argument("--kvnode-threads", type=int, default=1)
    ap.add_argument("--replicas", type=int, default=3, help="kvnode --replicas (N)")
    ap.add_argument("--read-quorum", type=int, default=2)
    ap.add_argument("--write-quorum", type=int, default=2)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-routing-")
    base = free_base_port()
    ports = [base + i for i in range(3)]
    hosts = ",".join(f"127.0.0.1:{p}" for p in ports)
    procs = []
    try:
        for i, port in enumerate(ports):
            cmd = [args.kvnode, "--node-id", f"n{i + 1}", "--port", str(port), "--data-dir", os.path.join(work, f"n{i + 1}"),
                   "--seeds", hosts, "--fsync", "everysec", "--log-level", "warning", "--threads", str(args.kvnode_threads),
                   "--replicas", str(args.replicas), "--read-quorum", str(args.read_quorum),
                   "--write-quorum", str(args.write_quorum)]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            wait_ready(port)
        kvbench(args, "load", hosts, os.path.join(work, "load"))
        modes = {"routing on": [], "routing off": ["--no-cluster-routing"]}
        results = {m: [] for m in modes}
        for rep in range(args.reps):
            for mode, extra in modes.items():
                m0, c0, t0 = peer_messages(ports), sum(cpu_seconds(p.pid) for p in procs), time.time()
                r = kvbench(args, "run", hosts, os.path.join(work, f"{mode}-{rep}".replace(" ", "-")), extra)
                r["cpu"] = (sum(cpu_seconds(p.pid) for p in procs) - c0) / (time.time() - t0)
                r["peer"] = (peer_messages(ports) - m0) / max(r["count"], 1)
                results[mode].append(r)
                print(f"rep{rep} {mode:11} {r['ops']:>9.0f} ops/s p50 {r['p50']:>7.0f} p99 {r['p99']:>7.0f} us "
                      f"errors {r['errors']} cpu {r['cpu']:.2f} peer msgs/op {r['peer']:.2f}", flush=True)
        med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
        print(f"\nmedians of {args.reps} ({os.path.basename(args.workload)}, {args.records} records, {args.ops} ops, "
              f"{args.threads} thread(s) x {args.connections} connections per member, pipeline {args.pipeline}, "
              f"N={args.replicas} R={args.read_quorum} W={args.write_quorum}):")
        print(f"{'mode':11} {'ops/s':>9} {'p50_us':>7} {'p99_us':>7} {'cpu':>5} {'peer/op':>7}")
        for mode, rs in results.items():
            print(f"{mode:11} {med(rs, 'ops'):>9.0f} {med(rs, 'p50'):>7.0f} {med(rs, 'p99'):>7.0f} {med(rs, 'cpu'):>5.2f} "
                  f"{med(rs, 'peer'):>7.2f}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
