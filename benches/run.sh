#!/usr/bin/env bash
# Runs the executor benchmark suite (BENCH.md) and writes its JSON lines to a
# file, then prints the Markdown table of medians (benches/table.py).
# Peers: weft and Asio (executor_bench, Bazel) and, when cargo is on PATH,
# tokio (benches/tokio_peer, built offline from Debian's cargo registry).
#
# Usage: benches/run.sh [OUTPUT]        (default OUTPUT: bench-results.jsonl)
# Environment:
#   RUNS=5                 runs of each workload (BENCH.md asks for 5, median)
#   THREADS="2"            worker thread counts to run, space-separated
#   WORKLOADS="..."        subset of the workloads (default: all five)
#   CARGO=cargo            the cargo that builds the tokio peer; if it is not
#                          found, the tokio peer is skipped with a note
#
# Each run is a fresh process with one workload, weft then Asio side by side,
# and right next to it a fresh tokio_peer process with the same workload; the
# two processes swap order from one run to the next so neither always runs
# second. The runs of different workloads are interleaved (run 1 of every
# workload, then run 2, ...) so a noisy minute on the machine spreads over all
# of them instead of landing on one.
set -euo pipefail

out="$(realpath -m "${1:-bench-results.jsonl}")"
runs="${RUNS:-5}"
threads_list="${THREADS:-2}"
workloads="${WORKLOADS:-spawn_many spawn_many_local chained_spawn yield_many ping_pong}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bazel build -c opt //benches:executor_bench
# Not the bazel-bin symlink: it points at whichever configuration was built
# last in this workspace, which may not be -c opt.
bin="$(bazel info -c opt bazel-bin 2>/dev/null)/benches/executor_bench"

# The tokio peer: a Cargo project whose .cargo/config.toml points crates-io at
# /usr/share/cargo/registry (setup.sh installs librust-tokio-dev and cargo).
# Cargo.lock is not kept in git: it is resolved afresh against whatever
# versions Debian's registry holds (a stale one would name versions the
# registry no longer has, and cargo >= 1.83 writes a lock format that
# Debian's cargo 0.66 cannot read).
cargo="${CARGO:-cargo}"
tokio_dir="$root/benches/tokio_peer"
tokio_bin=""
if command -v "$cargo" >/dev/null 2>&1; then
  echo "tokio peer: $("$cargo" --version), $("${RUSTC:-rustc}" --version 2>/dev/null || echo "rustc ?")" >&2
  (
    cd "$tokio_dir"
    "$cargo" generate-lockfile --offline
    "$cargo" build --release --offline --target-dir "$tokio_dir/target"
  )
  tokio_bin="$tokio_dir/target/release/tokio_peer"
else
  echo "tokio peer: skipped ($cargo not found; setup.sh installs Debian's cargo)" >&2
fi

: >"$out"
for run in $(seq 1 "$runs"); do
  for threads in $threads_list; do
    for workload in $workloads; do
      echo "run $run/$runs: $workload --threads $threads" >&2
      if [ -n "$tokio_bin" ] && [ $((run % 2)) -eq 0 ]; then
        "$tokio_bin" --threads "$threads" "$workload" >>"$out"
        "$bin" --threads "$threads" "$workload" >>"$out"
      else
        "$bin" --threads "$threads" "$workload" >>"$out"
        if [ -n "$tokio_bin" ]; then
          "$tokio_bin" --threads "$threads" "$workload" >>"$out"
        fi
      fi
    done
  done
done

echo "wrote $(wc -l <"$out") lines to $out" >&2
python3 "$root/benches/table.py" "$out"
