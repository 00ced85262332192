#!/usr/bin/env python3
"""kvnode against redis-server in the same sitting, with redis-benchmark as the common client.

For each configuration the two servers alternate (kvnode, redis, kvnode, redis, ...), each run on a
fresh server and data directory, and the script reports the median of the repetitions: requests/s,
p50/p99 (ms, from redis-benchmark's CSV), and the server's CPU in cores (utime+stime from procfs over
the run's wall time). Ratios are kvnode / redis.

  python3 scripts/bench_vs_redis.py --kvnode .build/release/kvnode [--reps 3] [--requests 1000000]
  python3 scripts/bench_vs_redis.py --kvnode .build/release/kvnode --durable   # fsync always vs AOF always
  python3 scripts/bench_vs_redis.py --kvnode .build/release/kvnode --tls       # both servers and the client over TLS
"""
import argparse
import csv
import io
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

CLK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def wait_ready(port, proc=None, timeout=10.0, ca=None):
    """Waits until the server on `port` answers PING (over TLS, trusting `ca`, when given); fails at once if
    `proc` exits meanwhile."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode} during start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as raw:
                s = ssl.create_default_context(cafile=ca).wrap_socket(raw, server_hostname="localhost") if ca else raw
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def start(kind, args, durable, workdir):
    port = free_port()
    if kind == "kvnode":
        cmd = [args.kvnode, "--port", str(port), "--data-dir", os.path.join(workdir, "kv"),
               "--fsync", "always" if durable else args.kvnode_fsync, "--log-level", "warning"]
        if args.kvnode_threads:
            cmd += ["--threads", str(args.kvnode_threads)]
    else:
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir,
               "--daemonize", "no", "--logfile", os.path.join(workdir, "redis.log")]
        cmd += ["--appendonly", "yes", "--appendfsync", "always", "--auto-aof-rewrite-percentage", "0"] if durable \
            else ["--appendonly", "no"]
    if args.tls:
        c = lambda name: os.path.join(args.tls, name)  # noqa: E731
        if kind == "kvnode":
            cmd += ["--tls-cert", c("node.crt"), "--tls-key", c("node.key")]
        else:
            cmd[cmd.index("--port") + 1] = "0"
            cmd += ["--tls-port", str(port), "--tls-cert-file", c("node.crt"), "--tls-key-file", c("node.key"),
                    "--tls-ca-cert-file", c("ca.crt"), "--tls-auth-clients", "no"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, proc, ca=os.path.join(args.tls, "ca.crt") if args.tls else None)
    return proc, port


def bench(port, tests, pipeline, args):
    cmd = ["redis-benchmark", "-p", str(port), "-t", tests, "-n", str(args.requests), "-r", "100000",
           "-d", "100", "-c", "50", "-P", str(pipeline), "--csv", "--precision", "3"]
    if args.tls:
        cmd += ["--tls", "--cacert", os.path.join(args.tls, "ca.crt")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200).stdout
    rows = {}
    for row in csv.reader(io.StringIO(out)):
        if not row or row[0] == "test":
            continue
        rows[row[0]] = {"rps": float(row[1]), "p50": float(row[4]), "p99": float(row[6])}
    return rows


def one_run(kind, args, pipeline, durable):
    workdir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    proc, port = start(kind, args, durable, workdir)
    try:
        c0, t0 = cpu_seconds(proc.pid), time.time()
        rows = bench(port, "set" if durable else "set,get", pipeline, args)
        cpu = (cpu_seconds(proc.pid) - c0) / (time.time() - t0)
        for r in rows.values():
            r["cpu"] = cpu
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvnode", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--requests", type=int, default=1000000)
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--durable", action="store_true", help="SET with fsync always vs Redis AOF appendfsync always")
    ap.add_argument("--kvnode-fsync", default="everysec")
    ap.add_argument("--kvnode-threads", type=int, default=0, help="kvnode --threads (0 = its default, one per core)")
    ap.add_argument("--tls", action="store_true", help="both servers and redis-benchmark over TLS (scripts/make-test-certs.sh)")
    args = ap.parse_args()
    if args.tls:
        args.tls = tempfile.mkdtemp(prefix="bench-certs-")
        subprocess.run(["bash", os.path.join(os.path.dirname(os.path.abspath(__file__)), "make-test-certs.sh"), args.tls],
                       check=True, stdout=subprocess.DEVNULL)
    results = {}
    for pipeline in [int(p) for p in args.pipelines.split(",")]:
        for rep in range(args.reps):
            for kind in ("kvnode", "redis"):
                rows = one_run(kind, args, pipeline, args.durable)
                for test, r in rows.items():
                    results.setdefault((pipeline, test, kind), []).append(r)
                    print(f"P{pipeline} rep{rep} {kind:6} {test:4} {r['rps']:>10.0f} req/s p50 {r['p50']:.3f} "
                          f"p99 {r['p99']:.3f} ms cpu {r['cpu']:.2f}", flush=True)
    print("\nmedians (kvnode / redis):")
    print(f"{'config':14} {'kvnode req/s':>12} {'redis req/s':>12} {'ratio':>6} {'kv p99':>7} {'redis p99':>9} "
          f"{'kv cpu':>6} {'redis cpu':>9}")
    for pipeline in [int(p) for p in args.pipelines.split(",")]:
        for test in ("SET", "GET"):
            kv, rd = results.get((pipeline, test, "kvnode")), results.get((pipeline, test, "redis"))
            if not kv or not rd:
                continue
            med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
            print(f"P{pipeline:<2} {test:10} {med(kv,'rps'):>12.0f} {med(rd,'rps'):>12.0f} "
                  f"{med(kv,'rps')/med(rd,'rps'):>6.2f} {med(kv,'p99'):>7.3f} {med(rd,'p99'):>9.3f} "
                  f"{med(kv,'cpu'):>6.2f} {med(rd,'cpu'):>9.2f}")


if __name__ == "__main__":
    sys.exit(main())
