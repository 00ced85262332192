#!/usr/bin/env python3
"""Balance vs vnodes: keys max/mean and coefficient of variation per node against tokens per node.

Input: the CSV of `kvbench ring --sweep vnodes --csv FILE`.
Usage: python3 plots/ring_balance_vs_vnodes.py sweep_vnodes.csv [out_basename]
"""
import math
import sys

from ring_common import COLOURS, plt, read_rows, save


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = [r for r in read_rows(sys.argv[1]) if r["scheme"] == "vnodes"]
    if not rows:
        sys.exit("no vnodes rows in " + sys.argv[1])
    out = sys.argv[2] if len(sys.argv) > 2 else "ring_balance_vs_vnodes"
    k = [int(r["vnodes"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.plot(k, [float(r["keys_max_mean"]) for r in rows], "o-", color=COLOURS["vnodes"], label="keys max/mean")
    ax.plot(k, [1 + float(r["keys_cv"]) for r in rows], "s--", color="#555555", label="1 + keys CV (σ/mean)")
    ax.plot(k, [1 + 1 / math.sqrt(v) for v in k], ":", color="#999999", label="1 + 1/√k (theory for σ)")
    if any(r["ops_max_mean"] != r["keys_max_mean"] for r in rows):
        ax.plot(k, [float(r["ops_max_mean"]) for r in rows], "^-", color="#d62728",
                label="ops max/mean (" + rows[0]["distribution"] + ")")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("tokens (vnodes) per node")
    ax.set_ylabel("imbalance (1 = perfect)")
    ax.set_title("Ring balance vs vnodes — %s nodes, %s keys" % (rows[0]["nodes_before"], rows[0]["keys"]))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    save(fig, out)


if __name__ == "__main__":
    main()
