#!/usr/bin/env python3
"""Render every plot that applies to a `kvbench ... --out DIR` directory, as PNG and SVG.

Usage: plots/render_all.py RUN_DIR [OUT_DIR]
  timeseries.csv          -> latency_over_time.{png,svg}
  <OP>.hlog               -> percentile_spectrum.{png,svg}
  nodes.csv               -> nodes.{png,svg}
  events.csv/cluster.csv  -> scenario_latency, scenario_nodes, scenario_moved (.png, .svg)
Each script runs in its own process, so one failing plot does not stop the others.
Exits non-zero only if nothing could be rendered.
"""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (script, whether it applies to the run directory, output name or None when the script writes PNG + SVG itself)
PLOTS = [
    ("latency_over_time.py", lambda run: os.path.exists(os.path.join(run, "timeseries.csv")), "latency_over_time"),
    ("percentile_spectrum.py", lambda run: bool(glob.glob(os.path.join(run, "*.hlog"))), "percentile_spectrum"),
    ("node_bars.py", lambda run: os.path.exists(os.path.join(run, "nodes.csv")), "nodes"),
    ("scenario.py", lambda run: any(os.path.exists(os.path.join(run, f)) for f in ("events.csv", "cluster.csv")), None),
]


def run_script(script, args):
    """Runs one plot script; returns True if it succeeded (its output and errors pass through)."""
    result = subprocess.run([sys.executable, os.path.join(HERE, script)] + args)
    if result.returncode != 0:
        print("%s %s failed (exit %d)" % (script, " ".join(args), result.returncode), file=sys.stderr)
    return result.returncode == 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    run = sys.argv[1]
    outdir = sys.argv[2] if len(sys.argv) > 2 else run
    if not os.path.isdir(run):
        sys.exit("not a directory: " + run)
    os.makedirs(outdir, exist_ok=True)
    rendered = 0
    for script, applies, name in PLOTS:
        if not applies(run):
            continue
        if name is None:
            rendered += run_script(script, [run, outdir])
        else:  # these scripts write one file; matplotlib picks the format from the extension
            for ext in (".png", ".svg"):
                rendered += run_script(script, [run, os.path.join(outdir, name + ext)])
    if not rendered:
        sys.exit("nothing rendered from " + run)


if __name__ == "__main__":
    main()
