"""Shared helpers for the `kvbench ring` plots: CSV loading and saving PNG + SVG."""
import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SCHEME_ORDER = ["modulo", "ring", "vnodes", "fixed", "jump", "rendezvous", "bounded"]
COLOURS = {
    "modulo": "#d62728",
    "ring": "#ff7f0e",
    "vnodes": "#1f77b4",
    "fixed": "#2ca02c",
    "jump": "#9467bd",
    "rendezvous": "#8c564b",
    "bounded": "#17becf",
}


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def by_scheme(rows):
    groups = {}
    for row in rows:
        groups.setdefault(row["scheme"], []).append(row)
    return [(s, groups[s]) for s in SCHEME_ORDER if s in groups]


def save(fig, out):
    """Write `out`.png and `out`.svg (out without extension)."""
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(out + ".png", dpi=140)
    fig.savefig(out + ".svg")
    plt.close(fig)
    print("wrote", out + ".png", "and", out + ".svg")
