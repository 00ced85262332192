#!/usr/bin/env python3
"""YCSB's six core workloads, unchanged, against a real redis-server and a real kvnode.

For each of workloads/workloada ... workloadf and each target (redis-server with the `redis` binding, a kvnode
process with the `kvnode` binding) the kvbench binary loads the records and runs the mix, reading the workload
file as shipped (`-P workloads/workloadX`; only the record and operation counts and the seed come from `-p`, as
YCSB users override them). Checked from each run's summary.json:
  - the load inserted every record, and the run made every operation, with no errors or timeouts;
  - each operation kind's share of the run is the file's proportion (within 5 standard deviations of the
    binomial count) and kinds the file leaves at 0 never occur;
  - reads, updates and read-modify-writes of the loaded records never miss (workloads A, B, C, F).
Then reproducibility op for op against redis-server: every workload run twice with the same seed on one
connection sends the same command stream (captured with MONITOR: command names, keys and values, in order),
and a different seed sends a different one.

Usage: scripts/core_workloads_test.py PATH/TO/kvbench PATH/TO/kvnode
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_vs_redis import free_port, wait_ready  # noqa: E402
from cluster_test import stop_processes  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
WORKLOADS = ["workloada", "workloadb", "workloadc", "workloadd", "workloade", "workloadf"]
# workload file property -> the operation name kvbench reports
KINDS = {"readproportion": "READ", "updateproportion": "UPDATE", "insertproportion": "INSERT",
         "scanproportion": "SCAN", "readmodifywriteproportion": "READ-MODIFY-WRITE"}
RECORDS, OPERATIONS, SEED = 2000, 20000, 7
REPRO_OPERATIONS = 5000  # per reproducibility run (one connection, so slower)


def start(cmd, port, what, log):
    """Starts a server and waits until it answers PING; on failure exits with its log."""
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        wait_ready(port, proc)
    except RuntimeError as error:
        proc.kill()
        sys.exit(f"core workloads: {what}: {error}\n{open(log).read()}")
    return proc


def properties(name):
    """The workload file's properties, as YCSB reads a .properties file (key=value, # comments)."""
    props = {}
    for line in open(os.path.join(ROOT, "workloads", name)):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = value.strip()
    return props


def kvbench(kvbench_path, phase, binding, port, name, out, seed=SEED, operations=OPERATIONS, extra=()):
    cmd = [kvbench_path, phase, binding, "--hosts", f"127.0.0.1:{port}",
           "-P", os.path.join(ROOT, "workloads", name),
           "-p", f"recordcount={RECORDS}", "-p", f"operationcount={operations}", "-p", f"seed={seed}",
           "--quiet", "--out", out, *extra]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        sys.exit(f"core workloads: `{' '.join(cmd)}` exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return json.load(open(os.path.join(out, "summary.json")))


def check_run(target, name, load, run):
    failures = []
    inserted = sum(d["outcomes"]["OK"] for d in load["operations_detail"] if d["operation"] == "INSERT")
    if load["errors"] or inserted != RECORDS:
        failures.append(f"load inserted {inserted} of {RECORDS} with {load['errors']} errors")
    if run["errors"] or run["operations"] != OPERATIONS:
        failures.append(f"run made {run['operations']} of {OPERATIONS} operations with {run['errors']} errors")
    counts = {d["operation"]: sum(d["outcomes"].values()) for d in run["operations_detail"]}
    missed = {d["operation"]: d["outcomes"]["NOT_FOUND"] for d in run["operations_detail"]}
    props = properties(name)
    weights = {op: float(props.get(key, "0")) for key, op in KINDS.items()}
    total = sum(weights.values())
    shares = []
    for op, weight in weights.items():
        p = weight / total
        got = counts.get(op, 0)
        expected = p * OPERATIONS
        allowed = 5 * math.sqrt(OPERATIONS * p * (1 - p))
        if abs(got - expected) > allowed or (p == 0 and got != 0):
            failures.append(f"{op}: {got} operations, expected {expected:.0f} ± {allowed:.0f}")
        if got:
            shares.append(f"{op} {got}")
    if props.get("insertproportion", "0") in ("0", "0.0") and any(missed.values()):
        failures.append(f"loaded records missed: {missed}")
    if failures:
        sys.exit(f"core workloads: {name} against {target}: " + "; ".join(failures))
    print(f"  {target:<6} {name}: {run['operations']} ops, 0 errors, {', '.join(shares)}"
          f" ({run['achieved_ops']:.0f} ops/s, not-found {sum(missed.values())})")


def monitored_commands(port, run):
    """The commands redis-server saw while `run()` ran, from MONITOR, without timestamps and client addresses."""
    monitor = subprocess.Popen(["redis-cli", "-p", str(port), "MONITOR"], stdout=subprocess.PIPE, text=True)
    if monitor.stdout.readline().strip() != "OK":
        sys.exit("core workloads: MONITOR did not start")
    run()
    # A marker after the run: everything before it in the stream belongs to the run.
    subprocess.run(["redis-cli", "-p", str(port), "ECHO", "end-of-run"], capture_output=True, timeout=10)
    commands = []
    for line in monitor.stdout:
        body = line.split("] ", 1)[1].rstrip("\n") if "] " in line else line.rstrip("\n")
        if body == '"ECHO" "end-of-run"':
            break
        commands.append(body)
    monitor.terminate()
    monitor.wait()
    return commands


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    kvbench_path, kvnode_path = (os.path.abspath(p) for p in sys.argv[1:])
    work = tempfile.mkdtemp(prefix="kvbench-core-")
    procs = []
    try:
        redis_port, node_port = free_port(), free_port()
        procs.append(start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no"], redis_port, "redis-server", os.path.join(work, "redis.log")))
        procs.append(start([kvnode_path, "--port", str(node_port), "--data-dir", os.path.join(work, "node"),
                            "--log-level", "warning"], node_port, "kvnode", os.path.join(work, "node.log")))

        print(f"core workloads A-F: {RECORDS} records, {OPERATIONS} operations each, 2 threads x 4 connections, pipeline 4")
        for target, binding, port in (("redis", "redis", redis_port), ("kvnode", "kvnode", node_port)):
            for name in WORKLOADS:
                subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], capture_output=True, timeout=30)
                shape = ("--threads", "2", "--connections", "4", "--pipeline", "4")
                out = os.path.join(work, target, name)
                load = kvbench(kvbench_path, "load", binding, port, name, out + "-load", extra=shape)
                run = kvbench(kvbench_path, "run", binding, port, name, out + "-run", extra=shape)
                check_run(target, name, load, run)

        print("reproducibility against redis-server (MONITOR, one connection):")
        for name in WORKLOADS:
            def once(seed):
                out = os.path.join(work, "repro", f"{name}-{seed}-{time.monotonic_ns()}")

                def go():
                    subprocess.run(["redis-cli", "-p", str(redis_port), "FLUSHALL"], capture_output=True, timeout=30)
                    for phase in ("load", "run"):
                        kvbench(kvbench_path, phase, "redis", redis_port, name, f"{out}-{phase}", seed=seed,
                                operations=REPRO_OPERATIONS)
                return [c for c in monitored_commands(redis_port, go) if not c.startswith('"FLUSHALL"')]
            first, second, other = once(SEED), once(SEED), once(SEED + 1)
            if len(first) < RECORDS + REPRO_OPERATIONS:
                sys.exit(f"core workloads: {name}: MONITOR saw {len(first)} commands, fewer than the run sent")
            if first != second:
                at = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b) if len(first) == len(second) else -1
                sys.exit(f"core workloads: {name}: two runs with seed {SEED} differ"
                         + (f" at command {at}: {first[at][:120]} / {second[at][:120]}" if at >= 0
                            else f" in length ({len(first)} / {len(second)} commands)"))
            if first == other:
                sys.exit(f"core workloads: {name}: seeds {SEED} and {SEED + 1} sent the same commands")
            print(f"  {name}: {len(first)} commands identical for seed {SEED} twice, different for seed {SEED + 1}")
        print("core workloads: ok")
    finally:
        stop_processes(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
