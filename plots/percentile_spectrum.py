#!/usr/bin/env python3
"""Percentile spectrum (HdrHistogram style, log-scale x axis) from a kvbench --out directory.

Usage: plots/percentile_spectrum.py RUN_DIR [OUT.png]
Reads the per-operation interval logs (<OP>.hlog, untagged lines = service time) and, for
open-loop runs, the `intended.*` tagged lines; decodes kvbench's V2 histogram encoding
(zlib with stored blocks, which Python's zlib reads) and plots latency against 1/(1-p).
"""
import base64
import glob
import os
import struct
import sys
import zlib
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def zigzag_values(payload):
    i = 0
    while i < len(payload):
        value, shift = 0, 0
        while True:
            b = payload[i]
            i += 1
            if shift == 56:
                value |= b << 56
                break
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
        yield (value >> 1) ^ -(value & 1)


def decode(blob):
    cookie, length = struct.unpack(">ii", blob[:8])
    raw = zlib.decompress(blob[8 : 8 + length])
    _, payload_len, _, digits, lowest, _highest, _ = struct.unpack(">iiiiqqd", raw[:40])
    half_mag = max((2 * 10**digits - 1).bit_length(), 1) - 1
    unit_mag = lowest.bit_length() - 1
    half = 1 << half_mag
    counts = {}
    index = 0
    for n in zigzag_values(raw[40 : 40 + payload_len]):
        if n < 0:
            index += -n
            continue
        if n > 0:
            bucket = (index >> half_mag) - 1
            sub = (index & (half - 1)) + half
            if bucket < 0:
                sub -= half
                bucket = 0
            counts[sub << (bucket + unit_mag)] = counts.get(sub << (bucket + unit_mag), 0) + n
        index += 1
    return counts


def read_log(path, want_tag):
    total = defaultdict(int)
    with open(path) as f:
        for line in f:
            if line.startswith("#") or line.startswith('"') or not line.strip():
                continue
            fields = line.strip().split(",")
            tag = None
            if fields[0].startswith("Tag="):
                tag = fields[0][4:]
                fields = fields[1:]
            if (want_tag is None and tag is None) or (want_tag and tag and tag.startswith(want_tag)):
                for value, count in decode(base64.b64decode(fields[3])).items():
                    total[value] += count
    return total


def spectrum(counts):
    n = sum(counts.values())
    xs, ys, seen = [], [], 0
    for value in sorted(counts):
        seen += counts[value]
        p = seen / n
        if p >= 1:
            p = 1 - 1 / (n + 1)
        xs.append(1 / (1 - p))
        ys.append(value / 1000.0)
    return xs, ys


def main():
    run = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else run + "/percentile_spectrum.png"
    fig, ax = plt.subplots(figsize=(10, 5))
    for path in sorted(glob.glob(os.path.join(run, "*.hlog"))):
        op = os.path.basename(path)[:-5]
        for tag, label in ((None, op), ("intended.", "Intended-" + op)):
            counts = read_log(path, tag)
            if counts:
                xs, ys = spectrum(counts)
                ax.plot(xs, ys, label=label, drawstyle="steps-post")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [1, 2, 10, 100, 1000, 10000, 100000]
    ax.set_xticks(ticks)
    ax.set_xticklabels(["0%", "50%", "90%", "99%", "99.9%", "99.99%", "99.999%"])
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (µs)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title("Latency by percentile")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(out)


if __name__ == "__main__":
    main()
