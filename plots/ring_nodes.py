#!/usr/bin/env python3
"""Per-node bars: each node's share of keys and of operations, one panel per scheme.

Input: the CSV of `kvbench ring --nodes-csv FILE` (scheme,node,keys,ops,share).
Usage: python3 plots/ring_nodes.py nodes.csv [out_basename]
"""
import sys

from ring_common import by_scheme, plt, read_rows, save


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = read_rows(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) > 2 else "ring_nodes"
    groups = by_scheme(rows)
    cols = min(3, len(groups))
    nrows = (len(groups) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 3.2 * nrows), squeeze=False)
    for ax in axes.flat[len(groups):]:
        ax.axis("off")
    for ax, (scheme, group) in zip(axes.flat, groups):
        nodes = [r["node"].replace("node-", "") for r in group]
        total_keys = sum(int(r["keys"]) for r in group)
        key_share = [int(r["keys"]) / total_keys for r in group]
        op_share = [float(r["share"]) for r in group]
        x = range(len(nodes))
        width = 0.4
        ax.bar([i - width / 2 for i in x], key_share, width, label="keys", color="#1f77b4")
        ax.bar([i + width / 2 for i in x], op_share, width, label="ops", color="#d62728")
        ax.axhline(1 / len(nodes), color="k", linestyle="--", linewidth=0.8, label="fair share")
        ax.set_title(scheme)
        ax.set_ylabel("share")
        if len(nodes) <= 24:
            ax.set_xticks(list(x))
            ax.set_xticklabels(nodes, fontsize=7)
        ax.set_xlabel("node")
        ax.legend(fontsize=7)
    save(fig, out)


if __name__ == "__main__":
    main()
