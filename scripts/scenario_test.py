#!/usr/bin/env python3
"""Scenario runner on real processes: `kvbench run kvnode --scenario` and `kvbench cluster`.

1. A 25 s scenario on a 3-node cluster under workload A: kill n2 at 5 s, restart it at 10 s, add a
   fourth node at 13 s, a hot-key storm at 16 s, the workload's rate down to 120 ops/s at 21 s (well under what a debug-build
   cluster sustains closed-loop on a busy 2-core machine, ~250-430 ops/s, so the check sees the rate, not capacity).
   Checks events.csv, cluster.csv and scenario.json: the kill is seen (every other node shows n2 down)
   within 5 s and the restart within 5 s, the new node gets between half and twice its ideal share of
   the replica copies and the cluster is balanced again, the hot-key storm ran on the key's owner, the
   rate change took hold, no acknowledged write of the tracker was lost, and no kvnode process is left
   behind.
2. A scenario file with a typo is refused with a message naming it, before anything starts.
3. `kvbench cluster start|status|event|stop` by hand: a paused node shows as paused, stop leaves no process.

Usage: scenario_test.py PATH/TO/kvbench
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import expect, keep_or_remove, verdict  # noqa: E402

RATE = 120  # ops/s asked by the rate event
SCENARIO = """
name: ci-smoke
description: kill, restart, add a node and a hot key on a 3-node cluster
cluster: { nodes: 3, args: ["--fsync", "no"] }
run: { duration: 25s, warmup: 1s }
events:
  - { at: 5s, action: kill, node: n2 }
  - { at: 10s, action: restart, node: n2 }
  - { at: 13s, action: add-node }
  - { at: 16s, action: hot-key, key: celebrity, rate: 2000, duration: 3s, connections: 2 }
  - { at: 21s, action: rate, rate: %d }
""" % RATE


def kvnodes_under(path):
    """kvnode processes whose command line mentions `path`."""
    out = subprocess.run(["pgrep", "-af", "kvnode"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if path in line and "pgrep" not in line]


def number(row, key):
    return float(row[key]) if row.get(key) not in (None, "") else None


def scenario_run(kvbench, work):
    print("== scenario: kill, restart, add-node, hot-key on 3 nodes (25 s)", flush=True)
    path = os.path.join(work, "ci-smoke.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO)
    out = os.path.join(work, "out")
    t0 = time.time()
    run = subprocess.run([kvbench, "run", "kvnode", "-P", "workloads/workloada", "-p", "recordcount=5000", "--scenario", path,
                          "--out", out, "--quiet", "--timeout", "2"], capture_output=True, text=True, timeout=240)
    print("\n".join("     " + line for line in run.stdout.splitlines() if not line.startswith("[")))
    if run.returncode != 0:
        print(run.stderr[-3000:])
    expect(run.returncode == 0, f"kvbench run --scenario exits 0 ({time.time() - t0:.0f} s)")
    if run.returncode != 0:
        return
    with open(os.path.join(out, "events.csv")) as f:
        events = list(csv.DictReader(f))
    with open(os.path.join(out, "scenario.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out, "cluster.csv")) as f:
        samples = list(csv.DictReader(f))
    by = {e["action"]: e for e in events}
    expect([e["action"] for e in events] == ["kill", "restart", "add-node", "hot-key", "rate"], "every event ran, in order")
    expect(all(e["problem"] == "" for e in events), "no event reported a problem")
    kill, restart, add, hot = by.get("kill", {}), by.get("restart", {}), by.get("add-node", {}), by.get("hot-key", {})
    d = number(kill, "detect_s")
    expect(d is not None and d <= 5, f"the kill of n2 is seen by every other node within 5 s ({d} s)")
    d = number(restart, "detect_s")
    expect(d is not None and d <= 5, f"the restarted n2 is up everywhere within 5 s ({d} s)")
    moved, ideal = number(add, "moved_fraction"), number(add, "ideal_fraction")
    expect(moved is not None and ideal and 0.5 * ideal <= moved <= 2 * ideal,
           f"the new node n4 received {moved} of the copies (ideal {ideal})")
    expect(number(add, "balanced_s") is not None, f"the cluster was balanced again ({add.get('balanced_s')} s after add-node)")
    expect(any(s["node"] == "n4" and s["reachable"] == "1" for s in samples), "cluster.csv samples the added node")
    expect(hot.get("node") in ("n1", "n2", "n3", "n4"), f"the hot-key storm ran on the key's owner ({hot.get('node')})")
    with open(os.path.join(out, "timeseries.csv")) as f:
        rows = [r for r in csv.DictReader(f) if not r["operation"].startswith("Intended-")]
    t_rate = number(by.get("rate", {}), "time_s") or 21
    whole = [s for s in range(int(t_rate) + 1, int(t_rate) + 4)]  # whole seconds after the change
    def ops_in(s):
        return sum(int(r["count"]) for r in rows if int(r["second"]) == s)
    # Before the kill the workload runs closed-loop, as fast as the cluster goes: it must go clearly faster than
    # the rate asked later, or the check below could not tell the rate event from the cluster's capacity.
    # Whole seconds from the end of the 1 s warm-up to the kill.
    t_kill = number(kill, "time_s") or 5
    unthrottled = max(ops_in(s) for s in range(2, max(int(t_kill), 3)))
    expect(unthrottled > 1.5 * RATE, f"before the events the workload ran faster than {RATE} ops/s ({unthrottled} in its best second)")
    per_second = [ops_in(s) for s in whole]
    expect(all(0.7 * RATE <= n <= 1.3 * RATE for n in per_second),
           f"after the rate event the workload ran at about {RATE} ops/s ({per_second})")
    check = summary.get("writes_check", {})
    expect(check.get("acknowledged", 0) > 1000 and check.get("lost") == 0 and check.get("unreadable") == 0,
           f"no acknowledged write lost: {check}")
    expect(summary.get("node_max_over_mean", 0) >= 1.0, f"node shares reported (max/mean {summary.get('node_max_over_mean')})")
    expect(not kvnodes_under(work), "no kvnode process is left after the run")


def bad_file(kvbench, work):
    print("== a scenario with a typo", flush=True)
    path = os.path.join(work, "typo.yaml")
    with open(path, "w") as f:
        f.write("name: typo\nevents:\n  - { at: 2s, action: kil, node: n1 }\n")
    run = subprocess.run([kvbench, "run", "kvnode", "-P", "workloads/workloada", "--scenario", path],
                         capture_output=True, text=True, timeout=30)
    expect(run.returncode != 0 and "unknown action 'kil'" in run.stderr and "typo.yaml" in run.stderr,
           f"refused, naming the file and the action: {run.stderr.strip()[:120]}")
    expect(not kvnodes_under(work), "nothing was started")


def by_hand(kvbench, work):
    print("== kvbench cluster start | event | status | stop", flush=True)
    d = os.path.join(work, "manual")
    start = subprocess.run([kvbench, "cluster", "start", "--dir", d, "--nodes", "3", "--", "--fsync", "no"],
                           capture_output=True, text=True, timeout=60)
    expect(start.returncode == 0, f"cluster start: {start.stdout.strip() or start.stderr.strip()[:200]}")
    subprocess.run([kvbench, "cluster", "event", "--dir", d, "pause", "n3"], check=False, timeout=30)
    status = subprocess.run([kvbench, "cluster", "status", "--dir", d], capture_output=True, text=True, timeout=30).stdout
    rows = {line.split()[0]: line.split() for line in status.splitlines()[1:] if line.strip()}
    expect(rows.get("n3", [None] * 4)[3] == "paused" and rows.get("n1", [None] * 5)[4] == "ok",
           "status shows n3 paused and n1 ok")
    again = subprocess.run([kvbench, "cluster", "start", "--dir", d], capture_output=True, text=True, timeout=30)
    expect(again.returncode != 0 and "already running" in again.stderr, "a second start on a running cluster is refused")
    subprocess.run([kvbench, "cluster", "stop", "--dir", d, "--remove-data"], check=False, timeout=60)
    expect(not kvnodes_under(d), "stop leaves no kvnode process (the paused one included)")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    kvbench = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="kvbench-scenario.")
    try:
        scenario_run(kvbench, work)
        bad_file(kvbench, work)
        by_hand(kvbench, work)
    finally:
        for line in kvnodes_under(work):
            os.kill(int(line.split()[0]), 9)
    keep_or_remove(work)
    verdict("scenario")


if __name__ == "__main__":
    main()
