#!/usr/bin/env python3
"""Crash campaign: kill -9 at random points of writes, merges, recovery and hint delivery, on real kvnode
processes with `--fsync always`, and check after every restart that no acknowledged write is lost and
nothing is half-applied.

Single node (`--rounds`, default 100): one data directory lives through every round, so later rounds
recover logs that earlier crashes left. Small segments and a low merge threshold keep background merges
running under the load. Four writers, each owning its keys (so each key has one writer and at most one
write in flight), SET and DEL a small set of hot keys (dead bytes, hence merges) and SET new unique keys,
with values of random length. After a random 50-1200 ms the node gets SIGKILL; in some rounds the restart
is killed again during recovery. After the restart every key the round touched (and a sample of older
ones) must read back as its last acknowledged value, or as the write that was in flight at the kill (an
unacknowledged write may or may not have happened); anything else is a lost write or, for a value never
written to that key, a corrupted one. A last pass checks every key.

Cluster (`--cluster-rounds`, default 10): three nodes (N=3, W=2). A node is killed, writes go on (the
coordinators keep hints for it), it restarts, and while the hints are being delivered a hint holder gets
SIGKILL. After it restarts, every acknowledged write must reach all three replicas (KV.GETLOCAL) and every
hint must drain.

Full disk (root only: it mounts a 1 MiB tmpfs): writes until the disk is full. The write that does not fit
is never acknowledged, the node logs the error and exits (status 70) rather than acknowledge what it cannot
keep; after the tmpfs is made larger a restart truncates the torn record and holds every acknowledged write.

Usage: crash_test.py PATH/TO/kvnode [--rounds N] [--cluster-rounds N] [--seed S] [--keep]
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_vs_redis import free_port, wait_ready  # noqa: E402
from cluster_test import Cluster, expect, free_base_port, keep_or_remove, verdict  # noqa: E402

WRITERS = 4
HOT_KEYS = 64  # per writer
DELETED = object()


class Model:
    """Per key: the last acknowledged value (None: deleted or never written) and the write in flight, if any.
    Each key has one writer, so at most one write per key is in flight."""

    def __init__(self):
        self.acked = {}
        self.inflight = {}
        self.history = {}  # every value ever sent per key (to tell a lost write from a corrupted one)
        self.lock = threading.Lock()
        self.acks = 0

    def sent(self, key, value):
        with self.lock:
            self.inflight[key] = value
            self.history.setdefault(key, set()).add(value)

    def acknowledged(self, key, value):
        with self.lock:
            self.acked[key] = None if value is DELETED else value
            self.inflight.pop(key, None)
            self.acks += 1

    def check(self, key, actual):
        """Returns None when `actual` is legal (and settles the model), else 'lost' or 'corrupt'."""
        with self.lock:
            acked = self.acked.get(key)
            inflight = self.inflight.pop(key, None)
            if inflight is not None:
                legal_inflight = None if inflight is DELETED else inflight
                if actual == legal_inflight:
                    self.acked[key] = actual
                    return None
            if actual == acked:
                return None
            if actual is not None and actual not in self.history.get(key, ()):
                return "corrupt"
            return "lost"


def writer(port, model, w, round_no, stop, rng):
    # No retries: redis-py retries a failed command by default, which would blur which write was in flight.
    r = redis.Redis(port=port, socket_timeout=5, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0))
    seq = 0
    while not stop.is_set():
        seq += 1
        roll = rng.random()
        try:
            if roll < 0.2:
                key = f"u:{round_no}:{w}:{seq}"
            else:
                key = f"hot:{w}:{rng.randrange(HOT_KEYS)}"
            if roll > 0.9 and key.startswith("hot:"):
                model.sent(key, DELETED)
                r.delete(key)
                model.acknowledged(key, DELETED)
            else:
                value = f"{round_no}.{w}.{seq}|".encode() + bytes([97 + seq % 26]) * rng.randrange(1, 3000)
                model.sent(key, value)
                r.set(key, value)
                model.acknowledged(key, value)
        except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError):
            return  # the node died: this write stays in flight (indeterminate)


def info_persistence(port):
    return redis.Redis(port=port, socket_timeout=2, retry=Retry(NoBackoff(), 0)).info("persistence")


def verify(port, model, keys):
    r = redis.Redis(port=port, socket_timeout=30)
    lost, corrupt = [], []
    keys = list(keys)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for key, actual in zip(chunk, r.mget(chunk)):
            verdict_ = model.check(key, actual)
            if verdict_ == "lost":
                lost.append(key)
            elif verdict_ == "corrupt":
                corrupt.append(key)
    return lost, corrupt


def single_node(args, work, rng):
    port = free_port()
    data = os.path.join(work, "single")
    log = open(os.path.join(work, "single.log"), "a")
    cmd = [args.kvnode, "--port", str(port), "--data-dir", data, "--fsync", "always", "--segment-size", "16384",
           "--merge-min-dead-bytes", "16kb", "--log-level", "warning"]
    model = Model()
    totals = dict(kills=0, during_merge=0, during_recovery=0, merges=0, truncated=0, corrupt_records=0, lost=0,
                  corrupt=0, checked=0)
    recovery_ms = []
    all_keys = set()
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    wait_ready(port, proc, timeout=60)
    started = time.time()
    for round_no in range(args.rounds):
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(port, model, w, round_no, stop, random.Random(rng.random())))
                   for w in range(WRITERS)]
        merge_seen = {"in_progress": False, "merges": 0}

        def monitor():
            while not stop.is_set():
                try:
                    p = info_persistence(port)
                    merge_seen["in_progress"] = p.get("merge_in_progress") == 1
                    merge_seen["merges"] = p.get("merges", 0)
                except redis.RedisError:
                    return
                time.sleep(0.01)

        mon = threading.Thread(target=monitor)
        for t in threads:
            t.start()
        mon.start()
        time.sleep(rng.uniform(0.05, 1.2))
        during_merge = merge_seen["in_progress"]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads + [mon]:
            t.join()
        totals["kills"] += 1
        totals["during_merge"] += during_merge
        totals["merges"] += merge_seen["merges"]
        if rng.random() < 0.1:
            # Kill the restart too, while it recovers (or just after).
            proc = subprocess.Popen(cmd, stdout=log, stderr=log)
            time.sleep(rng.uniform(0.0, 0.05))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            totals["kills"] += 1
            totals["during_recovery"] += 1
        t0 = time.time()
        proc = subprocess.Popen(cmd, stdout=log, stderr=log)
        wait_ready(port, proc, timeout=60)
        recovery_ms.append((time.time() - t0) * 1000)
        p = info_persistence(port)
        totals["truncated"] += p.get("recovery_truncated_tails", 0)
        totals["corrupt_records"] += p.get("recovery_corrupt_records", 0)
        with model.lock:
            touched = set(model.inflight) | {k for k in model.history if k.startswith(f"u:{round_no}:") or k.startswith("hot:")}
            all_keys |= set(model.history)
        older = rng.sample(sorted(all_keys - touched), min(2000, len(all_keys - touched)))
        lost, corrupt = verify(port, model, sorted(touched) + older)
        totals["checked"] += len(touched) + len(older)
        totals["lost"] += len(lost)
        totals["corrupt"] += len(corrupt)
        if lost or corrupt:
            print(f"  round {round_no}: lost {lost[:5]} corrupt {corrupt[:5]}")
        if (round_no + 1) % 10 == 0:
            print(f"  {round_no + 1} rounds: {model.acks} acknowledged writes, {totals['kills']} kills "
                  f"({totals['during_merge']} during a merge), lost {totals['lost']}, corrupt {totals['corrupt']}", flush=True)
    lost, corrupt = verify(port, model, sorted(all_keys))
    totals["lost"] += len(lost)
    totals["corrupt"] += len(corrupt)
    p = info_persistence(port)
    proc.terminate()
    proc.wait()
    elapsed = time.time() - started
    recovery_ms.sort()
    print(f"single node: {totals['kills']} kill -9 points in {elapsed:.0f} s ({totals['during_merge']} with a merge "
          f"running, {totals['during_recovery']} during recovery; {totals['merges']} merges completed); {model.acks} acknowledged writes "
          f"({len(all_keys)} keys, {p.get('disk_bytes', 0)} bytes on disk in {p.get('segments', 0)} segments at the end); "
          f"torn tails truncated {totals['truncated']}; recovery p50 {recovery_ms[len(recovery_ms) // 2]:.0f} ms, "
          f"max {recovery_ms[-1]:.0f} ms (process start to PING)")
    expect(totals["kills"] >= args.rounds, f"{totals['kills']} kill -9 points (at least {args.rounds})")
    expect(totals["during_merge"] > 0, f"some kills landed during a background merge ({totals['during_merge']})")
    expect(totals["lost"] == 0, f"no acknowledged write lost across every restart (lost {totals['lost']})")
    expect(totals["corrupt"] == 0, f"no half-applied or foreign value read back (found {totals['corrupt']})")
    expect(totals["corrupt_records"] == 0,
           f"recovery reported no corrupted record in the middle of a log ({totals['corrupt_records']}): kill -9 only tears tails")


def cluster_rounds(args, work, rng):
    base = free_base_port(3)
    c = Cluster(args.kvnode, os.path.join(work, "cluster"), base)
    os.makedirs(c.work, exist_ok=True)
    for i in range(3):
        c.start(i)
    for i in range(3):
        c.wait_ready(i, members_up=3)
    acked, acked_lock = [], threading.Lock()
    delivery_kills = 0
    converge = []
    try:
        for round_no in range(args.cluster_rounds):
            down, holder, other = rng.sample(range(3), 3)
            c.kill9(down)
            stop = threading.Event()

            def write(node, tag):
                r = c.client(node, timeout=3)
                seq = 0
                while not stop.is_set():
                    seq += 1
                    key, value = f"c{round_no}:{tag}:{seq}", f"v{round_no}.{tag}.{seq}"
                    try:
                        if r.set(key, value):
                            with acked_lock:
                                acked.append((key, value))
                    except redis.RedisError:
                        if node == holder:
                            return
                        time.sleep(0.05)

            threads = [threading.Thread(target=write, args=(holder, "h")), threading.Thread(target=write, args=(other, "o"))]
            for t in threads:
                t.start()
            time.sleep(1.0)
            # Restart the killed node and kill the hint holder once it has begun delivering its hints
            # (delivery is quick: the kill comes at the first sign of it, or after a random wait).
            initial = c.client(holder).info("cluster").get("cluster_hints", 0)
            c.start(down)
            hints_before, deadline = initial, time.time() + rng.uniform(0.3, 3.0)
            while time.time() < deadline:
                hints_before = c.client(holder).info("cluster").get("cluster_hints", 0)
                if hints_before < initial:
                    break
                time.sleep(0.005)
            c.kill9(holder)
            delivery_kills += hints_before > 0
            time.sleep(0.3)
            stop.set()
            for t in threads:
                t.join()
            c.start(holder)
            c.wait_ready(down, members_up=3)
            c.wait_ready(holder, members_up=3)
            t0 = time.time()
            missing = None
            while time.time() - t0 < 60:
                hints = sum(c.client(i).info("cluster").get("cluster_hints", 0) for i in range(3))
                if hints == 0:
                    missing = 0
                    for i in range(3):
                        pipe = c.client(i, timeout=30).pipeline(transaction=False)
                        for k, _ in acked:
                            pipe.execute_command("KV.GETLOCAL", k)
                        for (k, v), reply in zip(acked, pipe.execute()):
                            if v.encode() not in reply[1]:
                                missing += 1
                    if missing == 0:
                        break
                time.sleep(0.2)
            converge.append(time.time() - t0)
            print(f"  cluster round {round_no}: killed n{down + 1}, then hint holder n{holder + 1} with "
                  f"{hints_before} hints undelivered ({initial} when n{down + 1} restarted; writers go on adding); "
                  f"{len(acked)} acknowledged so far; all replicas complete after "
                  f"{converge[-1]:.1f} s (missing copies {missing})", flush=True)
            expect(missing == 0, f"cluster round {round_no}: every acknowledged write on all 3 replicas, no hints left")
    finally:
        c.stop_all()
    print(f"cluster: {args.cluster_rounds} rounds, {2 * args.cluster_rounds} kill -9 points "
          f"({delivery_kills} of the hint-holder kills with hints still undelivered), {len(acked)} acknowledged writes, "
          f"convergence max {max(converge):.1f} s")


def full_disk(args, work):
    if os.geteuid() != 0:
        print("full disk: skipped (needs root to mount a small tmpfs)")
        return
    mount = os.path.join(work, "full-disk")
    os.makedirs(mount)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount], check=True)
    try:
        port = free_port()
        data = os.path.join(mount, "data")
        cmd = [args.kvnode, "--port", str(port), "--data-dir", data, "--fsync", "always", "--log-level", "warning"]
        log = open(os.path.join(work, "full-disk.log"), "w")
        node = subprocess.Popen(cmd, stdout=log, stderr=log)
        wait_ready(port, node)
        r = redis.Redis(port=port, socket_timeout=5)
        acked, refused = [], None
        for i in range(100000):
            try:
                r.set(f"k{i}", f"{i}:" + "v" * 1000)
                acked.append(i)
            except redis.RedisError as e:
                refused = e
                break
        status = node.wait(timeout=30)
        text = open(os.path.join(work, "full-disk.log")).read()
        expect(refused is not None and status == 70 and "No space left on device" in text,
               f"a full disk stops the node with a clear error (exit {status}) after {len(acked)} acknowledged writes; "
               f"the write that did not fit was not acknowledged ({refused!r})")
        subprocess.run(["mount", "-o", "remount,size=8m", mount], check=True)
        node = subprocess.Popen(cmd, stdout=log, stderr=log)
        wait_ready(port, node)
        try:
            present = sum(1 for i in acked if r.get(f"k{i}") == f"{i}:".encode() + b"v" * 1000)
            unacked = r.get(f"k{len(acked)}")
            info = r.info("persistence")
            expect(present == len(acked) and unacked is None,
                   f"after space is freed, a restart holds all {len(acked)} acknowledged writes ({present}) and not the "
                   f"one that did not fit")
            expect(r.set("after-full-disk", "ok") and r.get("after-full-disk") == b"ok", "and takes writes again")
            print(f"     full disk: {len(acked)} writes acknowledged before it filled; recovery truncated "
                  f"{info.get('recovery_truncated_tails', '?')} torn tail(s)")
        finally:
            node.terminate()
            node.wait(timeout=30)
    finally:
        subprocess.run(["umount", "-l", mount], check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kvnode")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--cluster-rounds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.kvnode = os.path.abspath(args.kvnode)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"crash campaign seed {seed} (replay the kill schedule with --seed {seed})")
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="kvbench-crash-")
    try:
        if args.rounds:
            single_node(args, work, rng)
        if args.cluster_rounds:
            cluster_rounds(args, work, rng)
        print("== full disk")
        full_disk(args, work)
    finally:
        keep_or_remove(work, args.keep)
    verdict("crash")


if __name__ == "__main__":
    main()
