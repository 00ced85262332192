#!/usr/bin/env python3
"""Client-compatibility and hostile-input checks for a running kvnode.

Each check is independent and reported as PASS/FAIL; the last line is "N passed, N failed".
Exit status is non-zero when anything failed.
"""
import argparse
import resource
import socket
import subprocess
import sys
import time
import traceback

import redis

results = []


def check(name):
    def wrap(fn):
        def run(*a, **kw):
            try:
                fn(*a, **kw)
                results.append((name, True, ""))
                print(f"PASS {name}", flush=True)
            except Exception as e:  # noqa: BLE001 - report every failure
                results.append((name, False, repr(e)))
                print(f"FAIL {name}: {e!r}", flush=True)
                traceback.print_exc()
        return run
    return wrap


def cli(port, *args, password=None):
    cmd = ["redis-cli", "-p", str(port)]
    if password:
        cmd += ["--no-auth-warning", "-a", password]
    out = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def raw(port, payload, read_until_close=True, timeout=5.0):
    """Sends raw bytes and returns everything the server answered (until it closes or times out)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(payload)
    chunks = []
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
            if not read_until_close:
                break
    except socket.timeout:
        pass
    s.close()
    return b"".join(chunks)


def assert_alive(port):
    assert redis.Redis(port=port).ping() is True, "server stopped answering"


@check("redis-cli: PING, SET/GET, DBSIZE, errors")
def redis_cli_basics(port):
    assert cli(port, "PING") == "PONG"
    assert cli(port, "SET", "cli:k", "hello world") == "OK"
    assert cli(port, "GET", "cli:k") == "hello world"
    assert cli(port, "EXISTS", "cli:k", "cli:none") == "1"
    assert int(cli(port, "DBSIZE")) >= 1
    assert "unknown command 'NOSUCH'" in cli(port, "NOSUCH", "a")
    assert "wrong number of arguments for 'get'" in cli(port, "GET")
    assert cli(port, "SELECT", "0") == "OK"
    assert "out of range" in cli(port, "SELECT", "1")


@check("redis-cli: INFO sections and jemalloc as the allocator")
def redis_cli_info(port):
    info = cli(port, "INFO")
    for section in ("# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Keyspace"):
        assert section in info, section
    memory = dict(line.split(":", 1) for line in cli(port, "INFO", "memory").splitlines() if ":" in line)
    assert memory["mem_allocator"].startswith("jemalloc"), memory["mem_allocator"]
    assert memory["allocator_is_process_malloc"] == "1"
    assert int(memory["allocator_allocated"]) > 0


@check("redis-cli: interactive session (COMMAND DOCS, hints) works")
def redis_cli_interactive(port):
    out = subprocess.run(["redis-cli", "-p", str(port)], input="SET inter:k v1\nGET inter:k\nQUIT\n",
                         capture_output=True, text=True, timeout=30)
    assert "OK" in out.stdout and "v1" in out.stdout, out.stdout + out.stderr


@check("redis-benchmark: get,set with and without pipelining")
def redis_benchmark(port):
    for pipeline in ("1", "16"):
        out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set,get", "-n", "20000", "-r", "1000",
                              "-d", "100", "-c", "20", "-P", pipeline, "-q"],
                             capture_output=True, text=True, timeout=120)
        lines = [l for l in out.stdout.replace("\r", "\n").splitlines() if "requests per second" in l]
        assert len(lines) == 2, out.stdout + out.stderr
        for l in lines:
            assert float(l.split(":")[1].split()[0]) > 0
    assert_alive(port)


@check("redis-py: strings, TTL, pipeline, MGET/MSET, RESP2")
def redis_py_resp2(port):
    r = redis.Redis(port=port)
    assert r.set("py:a", b"\x00\x01binary\r\n") is True
    assert r.get("py:a") == b"\x00\x01binary\r\n"
    assert r.set("py:a", "x", nx=True) is None
    assert r.set("py:b", "y", xx=True) is None
    assert r.set("py:ttl", "v", ex=100) is True
    assert 95 <= r.ttl("py:ttl") <= 100
    assert r.pttl("py:a") == -1 and r.ttl("py:none") == -2
    assert r.mset({"py:m1": "1", "py:m2": "2"}) is True
    assert r.mget("py:m1", "py:none", "py:m2") == [b"1", None, b"2"]
    p = r.pipeline(transaction=False)
    for i in range(500):
        p.set(f"py:p{i}", i)
    for i in range(500):
        p.get(f"py:p{i}")
    res = p.execute()
    assert res[:500] == [True] * 500 and res[500:] == [str(i).encode() for i in range(500)]
    assert r.delete("py:m1", "py:m2", "py:none") == 2
    assert r.exists("py:m1") == 0
    r.set("py:px", "v", px=50)
    time.sleep(0.15)
    assert r.get("py:px") is None
    info = r.info("stats")
    assert info["total_commands_processed"] > 0


@check("redis-py: RESP3 via HELLO 3")
def redis_py_resp3(port):
    r = redis.Redis(port=port, protocol=3)
    assert r.set("py3:a", "v") is True
    assert r.get("py3:a") == b"v"
    assert r.get("py3:none") is None
    cfg = r.config_get("appendonly")
    assert cfg == {b"appendonly": b"yes"} or cfg == {"appendonly": "yes"}, cfg


@check("hostile input: malformed frames get an error and a close; server keeps serving")
def hostile_malformed(port):
    cases = {
        b"*2\r\n$3\r\nGET\r\n$abc\r\n": b"-ERR Protocol error",
        b"*x\r\n": b"-ERR Protocol error",
        b"*1\r\n:5\r\n": b"-ERR Protocol error",
        b'SET "unbalanced\r\n': b"-ERR Protocol error",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-5\r\n": b"-ERR Protocol error",
    }
    for payload, expected in cases.items():
        got = raw(port, payload)
        assert got.startswith(expected), (payload, got)
    assert_alive(port)


@check("hostile input: bulk over --max-bulk-len and too many args are refused before buffering")
def hostile_limits(port):
    got = raw(port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
    assert got.startswith(b"-ERR Protocol error") and b"bulk" in got, got
    got = raw(port, b"*5000\r\n")
    assert got.startswith(b"-ERR Protocol error"), got
    got = raw(port, b"A" * (70 * 1024))
    assert got.startswith(b"-ERR Protocol error"), got
    assert redis.Redis(port=port).exists("k") == 0
    assert_alive(port)


@check("hostile input: half a frame then vanish loses nothing acknowledged")
def hostile_half_frame(port):
    r = redis.Redis(port=port)
    r.set("half:before", "kept")
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"*3\r\n$3\r\nSET\r\n$11\r\nhalf:before\r\n$100\r\nonly-part")
        s.close()
    assert r.get("half:before") == b"kept"
    assert_alive(port)


@check("pipelining: 10k commands in one write are answered in order")
def pipelining(port):
    payload = b"".join(b"*3\r\n$3\r\nSET\r\n$6\r\npp%04d\r\n$4\r\n%04d\r\n" % (i, i) for i in range(5000))
    payload += b"".join(b"*2\r\n$3\r\nGET\r\n$6\r\npp%04d\r\n" % i for i in range(5000))
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(payload)
    expected = b"+OK\r\n" * 5000 + b"".join(b"$4\r\n%04d\r\n" % i for i in range(5000))
    got = b""
    while len(got) < len(expected):
        data = s.recv(1 << 20)
        if not data:
            break
        got += data
    s.close()
    assert got == expected, (len(got), len(expected))


@check("authentication: refused without AUTH, wrong password refused, right one accepted")
def auth(pw_port, password):
    r = redis.Redis(port=pw_port)
    try:
        r.get("x")
        raise AssertionError("unauthenticated GET succeeded")
    except redis.exceptions.AuthenticationError:
        pass
    except redis.exceptions.ResponseError as e:
        assert "NOAUTH" in str(e), e
    try:
        redis.Redis(port=pw_port, password="wrong").ping()
        raise AssertionError("wrong password accepted")
    except redis.exceptions.AuthenticationError:
        pass
    ok = redis.Redis(port=pw_port, password=password)
    assert ok.set("auth:k", "v") is True and ok.get("auth:k") == b"v"
    ok3 = redis.Redis(port=pw_port, password=password, protocol=3)
    assert ok3.get("auth:k") == b"v"


@check("10k idle connections: all accepted, server still answers")
def idle_connections(port):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 12000)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    n = min(10000, want - 200)
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.connect(("127.0.0.1", port))
            socks.append(s)
        # All of them are registered by the server, and a new client is still served promptly.
        deadline = time.time() + 30
        while time.time() < deadline:
            clients = redis.Redis(port=port).info("clients")["connected_clients"]
            if clients >= n:
                break
            time.sleep(0.2)
        assert clients >= n, clients
        assert_alive(port)
    finally:
        for s in socks:
            s.close()
    assert n >= 10000 or hard < 12000, n


@check("--max-clients: the connection over the limit gets an error, the others keep working")
def max_clients(port):
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    try:
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        got = extra.recv(1024)
        extra.close()
        assert got.startswith(b"-ERR max number of clients reached"), got
        socks[0].sendall(b"PING\r\n")
        assert socks[0].recv(64) == b"+PONG\r\n"
    finally:
        for s in socks:
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--password-port", type=int, required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--small-port", type=int, required=True)
    ap.add_argument("--kvnode-log")
    a = ap.parse_args()
    redis_cli_basics(a.port)
    redis_cli_info(a.port)
    redis_cli_interactive(a.port)
    redis_py_resp2(a.port)
    redis_py_resp3(a.port)
    pipelining(a.port)
    hostile_malformed(a.port)
    hostile_limits(a.port)
    hostile_half_frame(a.port)
    auth(a.password_port, a.password)
    max_clients(a.small_port)
    idle_connections(a.port)
    redis_benchmark(a.port)
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    if failed and a.kvnode_log:
        print("--- kvnode log (tail) ---")
        with open(a.kvnode_log, errors="replace") as f:
            print("".join(f.readlines()[-40:]))
    print(f"compat: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
