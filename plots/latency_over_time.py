#!/usr/bin/env python3
"""Latency over time from a kvbench --out directory's timeseries.csv.

Usage: plots/latency_over_time.py RUN_DIR [OUT.png]
One panel per operation: p50, p99, p99.9 and max per second (log scale), plus ops/s.
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main():
    run = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else run + "/latency_over_time.png"
    series = defaultdict(lambda: defaultdict(list))
    with open(run + "/timeseries.csv") as f:
        for row in csv.DictReader(f):
            s = series[row["operation"]]
            s["second"].append(int(row["second"]))
            for key in ("count", "p50_us", "p99_us", "p999_us", "max_us"):
                s[key].append(float(row[key]))
    ops = sorted(series)
    fig, axes = plt.subplots(len(ops), 1, figsize=(10, 3 * len(ops)), sharex=True, squeeze=False)
    for ax, op in zip(axes[:, 0], ops):
        s = series[op]
        for key, label in (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9"), ("max_us", "max")):
            ax.plot(s["second"], s[key], label=label)
        ax.set_yscale("log")
        ax.set_ylabel("latency (µs)")
        ax.set_title(op)
        ax.grid(True, which="both", alpha=0.3)
        rate = ax.twinx()
        rate.plot(s["second"], s["count"], color="grey", alpha=0.4, linestyle="--", label="ops/s")
        rate.set_ylabel("ops/s")
        ax.legend(loc="upper left", fontsize="small")
    axes[-1, 0].set_xlabel("second")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(out)


if __name__ == "__main__":
    main()
