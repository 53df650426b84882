#!/usr/bin/env python3
"""Turns the JSON lines of benches/run.sh (executor_bench, reactor_bench and
the Rust peers), of benches/http_bench.sh (http_hello) and of
benches/rtt_bench.sh (idle_rtt, busy_rtt) into the Markdown table README.md
shows.

Usage: benches/table.py [--no-spread] [RESULTS]
       (default RESULTS: bench-results.jsonl)

One row per (workload, threads, figure), in the order the workloads first
appear. The figure is per_op_ns, except for the workloads whose JSON lines
carry their own (FIGURES): tcp_rtt shows mean_us, p50_us and p99_us (one row
each), timers shows overhead_ms (wall time - 100 ms), http_hello shows
req_per_s, p50_ms and p99_ms (wrk's figures), idle_rtt shows p50_us,
p99_us and mean_us for each gap between round trips (gap_us; one row per
gap and figure), busy_rtt shows p50_us and p99_us for each count of
neighbour tasks (neighbours). Each cell is the median of the runs in the
file (benches/run.sh makes 5; each figure's median is taken on its own),
followed by the spread of those runs, "(min–max)", when there are two or
more (--no-spread leaves it out). A cell marked † holds at least one run
that stopped at its wall-time cap before all its round trips
("incomplete": rtt_client.cc's --max-seconds): that figure rests on fewer
round trips, and a note under the table says so.

There is a column for every peer present anywhere in the file (weft, tokio,
smol, asio, std, in that order, then any other), and a ratio column
weft/PEER for each of the others (below 1: weft is faster or has less
overhead), except on http_hello's req/s row, which divides throughputs
(above 1: weft serves more requests per second; BENCH.md's target is >= 1.1x
tokio); for tcp_rtt the headline ratio is that of mean_us, for timers that
of overhead_ms, for http_hello that of req_per_s. A cell stays blank when
that peer does not run that workload (smol and std run only some). Only ratios from one run of run.sh mean
anything on these machines (BENCH.md).
"""
import collections
import json
import statistics
import sys

REQUIRED = ("peer", "workload", "threads", "iters", "seconds", "per_op_ns")
PEER_ORDER = ("weft", "weft_tpc", "tokio", "smol", "asio", "std")  # columns, in order

# workload -> [(JSON field, label, decimals)]; any other: per_op_ns.
FIGURES = {
    "tcp_rtt": [("mean_us", "mean µs", 2), ("p50_us", "p50 µs", 2),
                ("p99_us", "p99 µs", 2)],
    "timers": [("overhead_ms", "overhead ms", 2)],
    "http_hello": [("req_per_s", "req/s", 0), ("p50_ms", "p50 ms", 3),
                   ("p99_ms", "p99 ms", 3)],
    "http_hello_close": [("req_per_s", "req/s", 0), ("p50_ms", "p50 ms", 3),
                         ("p99_ms", "p99 ms", 3)],
    "idle_rtt": [("p50_us", "p50 µs", 1), ("p99_us", "p99 µs", 1),
                 ("mean_us", "mean µs", 1)],
    "busy_rtt": [("p50_us", "p50 µs", 1), ("p99_us", "p99 µs", 1)],
}
DEFAULT_FIGURES = [("per_op_ns", "ns/op", 1)]


def gap_label(us):
    if us == 0:
        return "gap 0"
    if us % 1000 == 0:
        return f"gap {us // 1000} ms"
    return f"gap {us} µs"


def neighbours_label(n):
    return f"{n} neighbour" + ("" if n == 1 else "s")


# workload -> (JSON field that splits its rows, how that value is labelled):
# one group of rows per value, e.g. per gap between idle_rtt's round trips.
VARIANTS = {
    "idle_rtt": ("gap_us", gap_label),
    "busy_rtt": ("neighbours", neighbours_label),
}


def load(path):
    # (peer, workload, threads, variant, field) -> [values]
    samples = collections.defaultdict(list)
    # (peer, workload, threads, variant): a run of it stopped early
    incomplete = set()
    order = []  # (workload, threads, variant) in order of first appearance
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
            variant_field = VARIANTS.get(rec.get("workload"), (None,))[0]
            if variant_field and variant_field not in rec:
                missing.append(variant_field)
            if missing:
                sys.exit(f"{path}:{lineno}: missing {', '.join(missing)}")
            variant = rec[variant_field] if variant_field else None
            key = (rec["workload"], rec["threads"], variant)
            if key not in order:
                order.append(key)
            peers.add(rec["peer"])
            if rec.get("incomplete"):
                incomplete.add((rec["peer"], *key))
            for field, _, _ in figures:
                samples[(rec["peer"], *key, field)].append(float(rec[field]))
    columns = [p for p in PEER_ORDER if p in peers]
    columns += sorted(peers - set(PEER_ORDER))
    return samples, incomplete, order, columns


def fmt(x, decimals):
    return "" if x is None else f"{x:.{decimals}f}"


def cell(values, decimals, spread, marked):
    """The median of `values`, then "(min–max)" if asked and there are
    two or more, then † if `marked`."""
    if not values:
        return ""
    text = fmt(statistics.median(values), decimals)
    if spread and len(values) > 1:
        text += f" ({fmt(min(values), decimals)}–{fmt(max(values), decimals)})"
    return text + (" †" if marked else "")


def ratio(num, den):
    if num is None or den is None:
        return ""
    if den <= 0:
        return "—"  # no overhead to divide by
    return f"{num / den:.2f}×"


def main(argv):
    args = argv[1:]
    spread = "--no-spread" not in args
    args = [a for a in args if a != "--no-spread"]
    if len(args) > 1 or any(a.startswith("-") for a in args):
        sys.exit("usage: table.py [--no-spread] [RESULTS]")
    path = args[0] if args else "bench-results.jsonl"
    samples, incomplete, order, columns = load(path)
    if not order:
        sys.exit(f"{path}: no results")
    others = [p for p in columns if p != "weft"]
    header = (["workload", "threads", "figure"] + columns
              + [f"weft/{p}" for p in others] + ["runs"])
    print("| " + " | ".join(header) + " |")
    print("|---|---:|---|" + "---:|" * (len(columns) + len(others) + 1))
    any_marked = False
    for workload, threads, variant in order:
        prefix = ""
        if workload in VARIANTS:
            prefix = VARIANTS[workload][1](variant) + ": "
        for field, label, decimals in FIGURES.get(workload, DEFAULT_FIGURES):
            runs = {p: samples.get((p, workload, threads, variant, field), [])
                    for p in columns}
            med = {p: statistics.median(v) if v else None
                   for p, v in runs.items()}
            marked = {p: (p, workload, threads, variant) in incomplete
                      for p in columns}
            any_marked = any_marked or any(marked.values())
            present = [len(v) for v in runs.values() if v]
            n = min(present) if present else 0
            cells = ([workload, str(threads), prefix + label]
                     + [cell(runs[p], decimals, spread, marked[p])
                        for p in columns]
                     + [ratio(med.get("weft"), med[p]) for p in others]
                     + [str(n)])
            print("| " + " | ".join(cells) + " |")
    if any_marked:
        print()
        print("† at least one run of this cell stopped at its wall-time cap "
              "(rtt_client --max-seconds) before all its round trips: the "
              "figure rests on fewer round trips (\"iters\" in the JSON line).")


if __name__ == "__main__":
    main(sys.argv)
