#!/usr/bin/env python3
"""Movement vs cluster size: fraction of keys moved when the cluster changes, per scheme, with the ideal.

Input: the CSV of `kvbench ring --sweep nodes --csv FILE`.
Usage: python3 plots/ring_movement_vs_nodes.py sweep_nodes.csv [out_basename]
"""
import sys

from ring_common import COLOURS, by_scheme, plt, read_rows, save


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = read_rows(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) > 2 else "ring_movement_vs_nodes"
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.5))
    for scheme, group in by_scheme(rows):
        n = [int(r["nodes_before"]) for r in group]
        ax.plot(n, [float(r["moved_fraction"]) for r in group], "-", marker=".", color=COLOURS[scheme], label=scheme)
        bx.plot(n, [float(r["keys_max_mean"]) for r in group], "-", marker=".", color=COLOURS[scheme], label=scheme)
    first = by_scheme(rows)[0][1]
    ax.plot([int(r["nodes_before"]) for r in first], [float(r["ideal_moved_fraction"]) for r in first],
            "k--", label="ideal")
    ax.set_yscale("log")
    ax.set_xlabel("nodes before the change")
    ax.set_ylabel("fraction of keys moved")
    ax.set_title("Keys moved (%s→%s nodes per step)" % ("n", "n%+d" % (int(first[0]["nodes_after"]) - int(first[0]["nodes_before"]))))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2, loc="lower left")
    bx.set_yscale("log")
    bx.set_xlabel("nodes")
    bx.set_ylabel("keys max/mean")
    bx.set_title("Key balance vs cluster size")
    bx.grid(True, which="both", alpha=0.3)
    bx.legend(fontsize=8)
    save(fig, out)


if __name__ == "__main__":
    main()
