#!/usr/bin/env python3
"""What one write+fdatasync costs on this file system, three ways (the log writer's choice under
`--fsync always` rests on it): appending to a growing file, overwriting a zero-filled file, and
overwriting space reserved with fallocate (unwritten extents).

Usage: fsync_probe.py [DIR] [--writes N] [--size BYTES]   (DIR defaults to the current directory)
Prints the mean microseconds per write+fdatasync for each, over 3 rounds.
"""
import argparse
import os
import time


def probe(path, mode, writes, size):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        if mode == "zero-filled":
            os.write(fd, b"\0" * (writes * size))
            os.fsync(fd)
        elif mode == "fallocated":
            os.posix_fallocate(fd, 0, writes * size)
            os.fsync(fd)
        os.lseek(fd, 0, os.SEEK_SET)
        record = b"x" * size
        t0 = time.perf_counter()
        for _ in range(writes):
            os.write(fd, record)
            os.fdatasync(fd)
        return (time.perf_counter() - t0) / writes * 1e6
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default=".")
    ap.add_argument("--writes", type=int, default=2000)
    ap.add_argument("--size", type=int, default=2000)
    a = ap.parse_args()
    path = os.path.join(a.dir, ".fsync_probe.tmp")
    for r in range(3):
        cells = [f"{m} {probe(path, m, a.writes, a.size):6.0f} us" for m in ("append", "zero-filled", "fallocated")]
        print(f"round {r + 1}: " + "   ".join(cells))


if __name__ == "__main__":
    main()
