#!/usr/bin/env python3
"""Scenario plots from a `kvbench run kvnode --scenario FILE --out DIR` directory.

Usage: plots/scenario.py RUN_DIR [OUT_DIR]
Writes into OUT_DIR (default RUN_DIR), each as .png and .svg:
  scenario_latency  p50 / p99 / p99.9 per second, ops/s and errors (timeseries.csv, <OP>.hlog)
  scenario_nodes    client requests/s and peer messages/s per node (cluster.csv)
  scenario_moved    rebalance MiB received and keys held per node (cluster.csv)
Every panel marks the events of events.csv; a pause is shaded up to its node's resume.
"""
import base64
import csv
import glob
import itertools
import json
import math
import os
import struct
import sys
import zlib
from collections import defaultdict

from matplotlib.ticker import FuncFormatter

from percentile_spectrum import decode
from ring_common import plt, save

EVENT_COLOURS = {
    "kill": "#d62728",
    "restart": "#2ca02c",
    "pause": "#ff7f0e",
    "resume": "#ff7f0e",
    "add-node": "#1f77b4",
    "remove-node": "#9467bd",
    "leave": "#8c564b",
    "hot-key": "#e377c2",
}
MIB = 1024 * 1024


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(value):
    """A CSV cell as a float; empty or missing cells are NaN."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def zero_if_nan(value):
    return 0.0 if math.isnan(value) else value


def note(ax, text):
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="grey")


def node_colours(nodes):
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {n: cycle[i % len(cycle)] for i, n in enumerate(nodes)}


# Events


def read_events(run):
    events = [dict(r, time=num(r.get("time_s"))) for r in read_csv(os.path.join(run, "events.csv"))]
    return sorted((e for e in events if not math.isnan(e["time"])), key=lambda e: e["time"])


def event_label(e):
    text = " ".join(x for x in (e.get("action"), e.get("node")) if x)
    return text + (" (problem)" if e.get("problem") else "")


def pause_bands(events):
    """(start, end, node) from each pause to the next resume of the same node."""
    bands = []
    for i, e in enumerate(events):
        if e["action"] == "pause":
            end = next((r["time"] for r in events[i + 1:] if r["action"] == "resume" and r["node"] == e["node"]), None)
            if end is not None:
                bands.append((e["time"], end, e["node"]))
    return bands


def mark_events(axes, events):
    """Dashed lines and pause bands on every panel; labels along the top edge of the first."""
    for ax in axes:
        for e in events:
            ax.axvline(e["time"], color=EVENT_COLOURS.get(e["action"], "k"), linestyle="--", linewidth=1, alpha=0.8)
        for start, end, node in pause_bands(events):
            ax.axvspan(start, end, color=EVENT_COLOURS["pause"], alpha=0.12, linewidth=0)
    if events:
        top = axes[0].secondary_xaxis("top")
        top.set_xticks([e["time"] for e in events], labels=[event_label(e) for e in events],
                       rotation=45, ha="left", rotation_mode="anchor", fontsize=8)
        for tick, e in zip(top.get_xticklabels(), events):
            tick.set_color(EVENT_COLOURS.get(e["action"], "k"))


# Latency


def dense(seconds, values):
    """Values at every second from the first to the last (NaN where missing), plus the step edges."""
    lo, hi = min(seconds), max(seconds)
    return list(range(lo, hi + 2)), [values.get(s, math.nan) for s in range(lo, hi + 1)]


def steps(ax, by_second, **kwargs):
    """Per-second values drawn as steps over [s, s+1): `second` is the interval's start."""
    edges, values = dense(list(by_second), by_second)
    ax.stairs(values, edges, baseline=None, **kwargs)


def percentile(counts, p):
    total = sum(counts.values())
    target = max(1, math.ceil(p / 100 * total))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= target:
            return value
    return math.nan


def merged_intervals(run):
    """{second: {latency_ns: count}} over the service-time lines of every <OP>.hlog."""
    merged = defaultdict(lambda: defaultdict(int))
    for path in glob.glob(os.path.join(run, "*.hlog")):
        with open(path) as f:
            for line in f:
                if line[:1] in ('#', '"', "T") or not line.strip():
                    continue  # comments, the header and tagged lines (intended.*, service.ok, ...)
                start, _length, _max, blob = line.strip().split(",")
                for value, count in decode(base64.b64decode(blob)).items():
                    merged[round(float(start))][value] += count
    return merged


def latency_figure(run, events, out):
    rows = [r for r in read_csv(os.path.join(run, "timeseries.csv")) if not r["operation"].startswith("Intended-")]
    if not rows:
        print("skipped scenario_latency: no service rows in timeseries.csv", file=sys.stderr)
        return False
    per_op = defaultdict(dict)
    ops_per_s, errors = defaultdict(float), defaultdict(float)
    for r in rows:
        s = int(r["second"])
        per_op[r["operation"]][s] = r
        ops_per_s[s] += zero_if_nan(num(r["count"]))
        errors[s] += zero_if_nan(num(r.get("errors")))
    fig, (lat, rate) = plt.subplots(2, 1, figsize=(11, 7.5), sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})

    try:
        intervals = merged_intervals(run)
    except (ValueError, IndexError, OSError, struct.error, zlib.error) as error:
        print("scenario_latency: cannot read the .hlog files (%s); using the max over operations" % error, file=sys.stderr)
        intervals = {}
    if intervals:
        how = "all operations merged (from the .hlog interval logs)"
        overall = {key: {s: percentile(c, p) / 1e6 for s, c in intervals.items()}
                   for key, p in (("p50", 50), ("p99", 99), ("p99.9", 99.9))}
    else:
        how = "overall = max over operations (an upper bound of the merged percentile)"
        overall = {label: {s: max(num(per_op[op][s][key]) for op in per_op if s in per_op[op]) / 1000 for s in ops_per_s}
                   for key, label in (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9"))}
    for (label, values), colour in zip(overall.items(), ("#2ca02c", "#d62728", "#9467bd")):
        steps(lat, values, color=colour, linewidth=2, label=label)
    for op, style in zip(sorted(per_op), itertools.cycle(("dotted", "dashdot", (0, (5, 2)), (0, (1, 3))))):
        steps(lat, {s: num(r["p99_us"]) / 1000 for s, r in per_op[op].items()}, color="grey", linestyle=style,
              linewidth=1.2, label=op + " p99")
    lat.set_yscale("log")
    lat.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g" % v))
    lat.set_ylabel("service time (ms)")
    lat.grid(True, which="both", alpha=0.3)
    lat.legend(loc="upper left", fontsize="small", ncol=2, framealpha=0.9)

    steps(rate, ops_per_s, color="k", linewidth=1.5, label="ops/s")
    rate.set_ylabel("ops/s")
    rate.set_ylim(bottom=0)
    rate.set_xlabel("seconds since the run start")
    rate.grid(True, alpha=0.3)
    err = rate.twinx()
    err.bar([s + 0.5 for s in errors], list(errors.values()), width=0.8, color="#d62728", alpha=0.5, label="errors/s")
    err.set_ylabel("errors/s", color="#d62728")
    err.set_ylim(bottom=0, top=max(1, max(errors.values())) * 1.15)
    handles = rate.get_legend_handles_labels()[0] + err.get_legend_handles_labels()[0]
    rate.legend(handles, [h.get_label() for h in handles], loc="lower left", fontsize="small")

    mark_events([lat, rate], events)
    lat.set_title("Latency per second: " + how, fontsize=10)
    fig.suptitle(scenario_title(run))
    save(fig, out)
    return True


# Cluster samples


def read_cluster(run):
    """{node: list of samples}; counters and rates of unreachable samples are NaN (the node did not answer)."""
    nodes = defaultdict(list)
    for r in read_csv(os.path.join(run, "cluster.csv")):
        up = r.get("reachable") == "1"
        sample = {k: (num(v) if up else math.nan) for k, v in r.items() if k not in ("node", "time_s")}
        sample["time"] = num(r["time_s"])
        nodes[r["node"]].append(sample)
    return dict(sorted(nodes.items()))


def node_panel(ax, nodes, key, scale=1.0, **kwargs):
    """One line per node; returns False (and writes a note) when the column has no values."""
    colours = node_colours(nodes)
    drawn = False
    for node, samples in nodes.items():
        ys = [s.get(key, math.nan) / scale for s in samples]
        if any(not math.isnan(y) for y in ys):
            ax.plot([s["time"] for s in samples], ys, color=colours[node], label=node, **kwargs)
            drawn = True
    if not drawn:
        note(ax, "no %s values in cluster.csv" % key)
        times = [s["time"] for samples in nodes.values() for s in samples]
        ax.set_xlim(min(times), max(times))
    ax.grid(True, alpha=0.3)
    return drawn


def nodes_figure(run, nodes, events, meta, out):
    fig, (client, peer) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    if node_panel(client, nodes, "client_requests_per_s", marker=".", markersize=3):
        client.legend(loc="upper left", fontsize="small", ncol=min(6, len(nodes)))
    node_panel(peer, nodes, "peer_messages_in_per_s", marker=".", markersize=3)
    client.set_ylabel("client requests/s")
    peer.set_ylabel("peer messages in/s")
    peer.set_xlabel("seconds since the run start (gaps: node unreachable)")
    mark_events([client, peer], events)
    title = "Load per node"
    shares = meta.get("node_shares") or {}
    if meta.get("node_max_over_mean") is not None:
        title += " — max/mean share %.2f" % meta["node_max_over_mean"]
    if shares:
        title += "\n" + ", ".join("%s %.1f%%" % (n, v * 100) for n, v in sorted(shares.items()))
    client.set_title(title, fontsize=10)
    fig.suptitle(scenario_title(run))
    save(fig, out)
    return True


def moved_summary(events):
    parts = []
    for e in events:
        if e.get("keys_moved"):
            text = "%s: %s keys" % (event_label(e), e["keys_moved"])
            if e.get("bytes_moved"):
                text += " / %.1f MiB" % (num(e["bytes_moved"]) / MIB)
            if e.get("moved_fraction") and e.get("ideal_fraction"):
                text += ", %.1f%% of copies (ideal %.1f%%)" % (num(e["moved_fraction"]) * 100, num(e["ideal_fraction"]) * 100)
            if e.get("balanced_s"):
                text += ", balanced after %.1f s" % num(e["balanced_s"])
            parts.append(text)
    return "\n".join(parts)


def moved_figure(run, nodes, events, out):
    fig, (moved, keys) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    if node_panel(moved, nodes, "rebalance_bytes_received", scale=MIB, linewidth=2):
        handles, labels = moved.get_legend_handles_labels()
        node_panel(moved, nodes, "rebalance_bytes_sent", scale=MIB, linestyle=":", linewidth=1.2)
        moved.legend(handles, labels, loc="upper left", fontsize="small", ncol=min(6, len(nodes)),
                     title="solid: received, dotted: sent", title_fontsize="small")
    moved.set_ylabel("rebalance MiB (cumulative)")
    if node_panel(keys, nodes, "keys", marker=".", markersize=3):
        keys.legend(loc="lower left", fontsize="small", ncol=min(6, len(nodes)))
    keys.set_ylabel("keys held")
    keys.set_xlabel("seconds since the run start (gaps: node unreachable)")
    mark_events([moved, keys], events)
    moved.set_title(moved_summary(events) or "Rebalancing", fontsize=10)
    fig.suptitle(scenario_title(run))
    save(fig, out)
    return True


def scenario_title(run):
    meta = read_meta(run)
    name = meta.get("scenario") or os.path.basename(os.path.normpath(run))
    return "scenario %s" % name + (": " + meta["description"] if meta.get("description") else "")


def read_meta(run):
    path = os.path.join(run, "scenario.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    run = sys.argv[1]
    outdir = sys.argv[2] if len(sys.argv) > 2 else run
    os.makedirs(outdir, exist_ok=True)
    events = read_events(run)
    written = [latency_figure(run, events, os.path.join(outdir, "scenario_latency"))]
    nodes = read_cluster(run)
    if nodes:
        written.append(nodes_figure(run, nodes, events, read_meta(run), os.path.join(outdir, "scenario_nodes")))
        written.append(moved_figure(run, nodes, events, os.path.join(outdir, "scenario_moved")))
    else:
        print("skipped scenario_nodes and scenario_moved: no cluster.csv rows", file=sys.stderr)
    sys.exit(0 if any(written) else 1)


if __name__ == "__main__":
    main()
