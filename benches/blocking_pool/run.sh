#!/usr/bin/env bash
# Runs the blocking-pool benchmarks (BENCH.md: unblock, file_copy) RUNS
# times each, interleaved, writes their JSON lines to a file, and prints
# the medians with weft's ratio to its peer in the same runs.
#
# Usage: benches/blocking_pool/run.sh [OUTPUT]   (default: bench-results-blocking.jsonl)
# Environment:
#   RUNS=5          runs of each workload (BENCH.md: 5, median)
#   THREADS=2       executor threads
#   FILE_MIB=1024   file_copy's file size (needs 2x this on the disk of DIR)
#   DIR=/tmp        where file_copy writes its files
set -euo pipefail

out="$(realpath -m "${1:-bench-results-blocking.jsonl}")"
runs="${RUNS:-5}"
threads="${THREADS:-2}"
file_mib="${FILE_MIB:-1024}"
dir="${DIR:-/tmp}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bazel build -c opt //benches/blocking_pool:unblock_bench //benches/blocking_pool:file_copy_bench
bin="$(bazel info -c opt bazel-bin 2>/dev/null)/benches/blocking_pool"

: >"$out"
for run in $(seq 1 "$runs"); do
  echo "run $run/$runs" >&2
  "$bin/unblock_bench" --threads "$threads" unblock >>"$out"
  "$bin/unblock_bench" --threads "$threads" unblock_rtt >>"$out"
  "$bin/file_copy_bench" --threads "$threads" --file_mib "$file_mib" --dir "$dir" >>"$out"
done
echo "wrote $(wc -l <"$out") lines to $out" >&2

python3 - "$out" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(list)
order = []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    key = (r["workload"], r["threads"])
    if key not in order:
        order.append(key)
    runs[(r["peer"],) + key].append(r)
print("| workload | threads | weft | peer | peer's figure | weft/peer | runs |")
print("|---|---:|---:|---|---:|---:|---:|")
for workload, threads in order:
    weft = runs[("weft", workload, threads)]
    for peer in ("asio", "std"):
        other = runs.get((peer, workload, threads))
        if not other:
            continue
        if "mb_per_s" in weft[0]:
            w = statistics.median(x["mb_per_s"] for x in weft)
            o = statistics.median(x["mb_per_s"] for x in other)
            cell = lambda v: f"{v:.0f} MB/s"
            ratio = w / o  # throughput: above 1, weft is faster
        else:
            w = statistics.median(x["per_op_ns"] for x in weft)
            o = statistics.median(x["per_op_ns"] for x in other)
            cell = lambda v: f"{v:.0f} ns"
            ratio = w / o  # time per op: below 1, weft is faster
        label = f"{peer} ({other[0].get('variant', peer)})"
        print(f"| {workload} | {threads} | {cell(w)} | {label} | {cell(o)} | {ratio:.2f}x | {min(len(weft), len(other))} |")
PY
