#!/usr/bin/env python3
"""Turns executor_bench and tokio_peer JSON lines into the Markdown table
README.md shows.

Usage: benches/table.py [RESULTS]   (default RESULTS: bench-results.jsonl)

For every (peer, workload, threads) it takes the median per_op_ns of the runs
in the file (benches/run.sh makes 5), then prints one row per (workload,
threads) with weft's, tokio's and Asio's medians and the ratios weft/tokio
and weft/asio (below 1: weft is faster). The tokio cells stay blank when the
file has no tokio lines (run.sh found no cargo). Only ratios from one run of
run.sh mean anything on these machines (BENCH.md).
"""
import collections
import json
import statistics
import sys

REQUIRED = ("peer", "workload", "threads", "iters", "seconds", "per_op_ns")
PEERS = ("weft", "tokio", "asio")  # the table's columns, in order


def load(path):
    samples = collections.defaultdict(list)  # (peer, workload, threads) -> [ns/op]
    order = []  # (workload, threads) in order of first appearance
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
            if missing:
                sys.exit(f"{path}:{lineno}: missing {', '.join(missing)}")
            key = (rec["workload"], rec["threads"])
            if key not in order:
                order.append(key)
            samples[(rec["peer"], *key)].append(float(rec["per_op_ns"]))
    return samples, order


def fmt(x):
    return "—" if x is None else f"{x:.1f}"


def ratio(num, den):
    return f"{num / den:.2f}×" if num is not None and den else "—"


def main(argv):
    path = argv[1] if len(argv) > 1 else "bench-results.jsonl"
    samples, order = load(path)
    if not order:
        sys.exit(f"{path}: no results")
    print("| workload | threads | weft ns/op | tokio ns/op | asio ns/op "
          "| weft/tokio | weft/asio | runs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for workload, threads in order:
        runs = {peer: samples.get((peer, workload, threads), []) for peer in PEERS}
        med = {peer: statistics.median(v) if v else None for peer, v in runs.items()}
        w, t, a = med["weft"], med["tokio"], med["asio"]
        # Blank, not a dash, when there is no tokio figure at all.
        tokio_ns = fmt(t) if t is not None else ""
        vs_tokio = ratio(w, t) if t is not None else ""
        present = [len(v) for v in runs.values() if v]
        n = min(present) if present else 0
        print(f"| {workload} | {threads} | {fmt(w)} | {tokio_ns} | {fmt(a)} "
              f"| {vs_tokio} | {ratio(w, a)} | {n} |")


if __name__ == "__main__":
    main(sys.argv)
