#!/usr/bin/env python3
"""Per-node bars (operations and distinct keys touched) from a kvbench --out directory's nodes.csv.

Usage: plots/node_bars.py RUN_DIR [OUT.png]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main():
    run = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else run + "/nodes.png"
    with open(run + "/nodes.csv") as f:
        rows = list(csv.DictReader(f))
    names = [r["node"] for r in rows]
    fig, (ops_ax, keys_ax) = plt.subplots(1, 2, figsize=(10, 4))
    bars = ops_ax.bar(names, [int(r["ops"]) for r in rows], color="tab:blue")
    for bar, r in zip(bars, rows):
        ops_ax.annotate(f"{float(r['share']) * 100:.1f}%", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize="small")
    ops_ax.set_title("operations per node (share)")
    keys_ax.bar(names, [int(r["keys_touched"]) for r in rows], color="tab:orange")
    keys_ax.set_title("distinct keys touched per node")
    for ax in (ops_ax, keys_ax):
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(out)


if __name__ == "__main__":
    main()
