#!/usr/bin/env python3
"""Turns the JSON lines of benches/run.sh (executor_bench, reactor_bench and
the Rust peers) into the Markdown table README.md shows.

Usage: benches/table.py [RESULTS]   (default RESULTS: bench-results.jsonl)

One row per (workload, threads, figure), in the order the workloads first
appear. The figure is per_op_ns, except for the workloads whose JSON lines
carry their own (FIGURES): tcp_rtt shows mean_us, p50_us and p99_us (one row
each), timers shows overhead_ms (wall time - 100 ms). Each cell is the
median of the runs in the file (benches/run.sh makes 5; each figure's median
is taken on its own).

There is a column for every peer present anywhere in the file (weft, tokio,
smol, asio, std, in that order, then any other), and a ratio column
weft/PEER for each of the others (below 1: weft is faster or has less
overhead); for tcp_rtt the headline ratio is that of mean_us, for timers that
of overhead_ms. A cell stays blank when that peer does not run that workload
(smol and std run only some). Only ratios from one run of run.sh mean
anything on these machines (BENCH.md).
"""
import collections
import json
import statistics
import sys

REQUIRED = ("peer", "workload", "threads", "iters", "seconds", "per_op_ns")
PEER_ORDER = ("weft", "tokio", "smol", "asio", "std")  # columns, in order

# workload -> [(JSON field, label, decimals)]; any other: per_op_ns.
FIGURES = {
    "tcp_rtt": [("mean_us", "mean µs", 2), ("p50_us", "p50 µs", 2),
                ("p99_us", "p99 µs", 2)],
    "timers": [("overhead_ms", "overhead ms", 2)],
}
DEFAULT_FIGURES = [("per_op_ns", "ns/op", 1)]


def load(path):
    # (peer, workload, threads, field) -> [values]
    samples = collections.defaultdict(list)
    order = []  # (workload, threads) in order of first appearance
    peers = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{lineno}: not JSON: {e}")
            missing = [k for k in REQUIRED if k not in rec]
            figures = FIGURES.get(rec.get("workload"), DEFAULT_FIGURES)
            missing += [k for k, _, _ in figures if k not in rec]
            if missing:
                sys.exit(f"{path}:{lineno}: missing {', '.join(missing)}")
            key = (rec["workload"], rec["threads"])
            if key not in order:
                order.append(key)
            peers.add(rec["peer"])
            for field, _, _ in figures:
                samples[(rec["peer"], *key, field)].append(float(rec[field]))
    columns = [p for p in PEER_ORDER if p in peers]
    columns += sorted(peers - set(PEER_ORDER))
    return samples, order, columns


def fmt(x, decimals):
    return "" if x is None else f"{x:.{decimals}f}"


def ratio(num, den):
    if num is None or den is None:
        return ""
    if den <= 0:
        return "—"  # no overhead to divide by
    return f"{num / den:.2f}×"


def main(argv):
    path = argv[1] if len(argv) > 1 else "bench-results.jsonl"
    samples, order, columns = load(path)
    if not order:
        sys.exit(f"{path}: no results")
    others = [p for p in columns if p != "weft"]
    header = (["workload", "threads", "figure"] + columns
              + [f"weft/{p}" for p in others] + ["runs"])
    print("| " + " | ".join(header) + " |")
    print("|---|---:|---|" + "---:|" * (len(columns) + len(others) + 1))
    for workload, threads in order:
        for field, label, decimals in FIGURES.get(workload, DEFAULT_FIGURES):
            runs = {p: samples.get((p, workload, threads, field), [])
                    for p in columns}
            med = {p: statistics.median(v) if v else None
                   for p, v in runs.items()}
            present = [len(v) for v in runs.values() if v]
            n = min(present) if present else 0
            cells = ([workload, str(threads), label]
                     + [fmt(med[p], decimals) for p in columns]
                     + [ratio(med.get("weft"), med[p]) for p in others]
                     + [str(n)])
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv)
