#!/usr/bin/env bash
# Syscalls per tcp_rtt round trip (BENCH.md: "strace -c -f"; the floor is 2
# per side, one read and one write, so 4 per round trip for the process that
# runs both the client and the server).
#
# For each peer, runs its tcp_rtt alone under `strace -f -c` twice, with N1
# and then N2 round trips (--round-trips, which reactor_bench, tokio_reactor
# and smol_peer all take), and prints
#     (calls with N2 - calls with N1) / (total round trips N2 - N1)
# per syscall: the difference takes out everything the process does once
# (loading, thread and socket setup, warm-up allocation, shutdown), leaving
# what the round trips cost. Every binary runs the workload once unmeasured
# and once measured (reactor_bench's warm-up, peer_common::WARMUP_RUNS), so a
# process makes 2 x N round trips: RUNS_PER_PROCESS below.
#
# The headline column counts the calls that move the bytes or wait for them:
# read, write, recvfrom, sendto, recvmsg, sendmsg, readv, writev, epoll_wait,
# epoll_pwait, epoll_pwait2 (eventfd wake-ups are reads and writes too, and
# count). Failed calls (EAGAIN) count as calls: they cost a syscall all the
# same; the "failed" column says how many there were. Under strace every
# syscall is much slower, which can change how often a runtime parks; read the
# counts, not the times.
#
# Usage: benches/syscalls.sh
# Environment:
#   PEERS="weft tokio"   any of weft, asio, std (reactor_bench), tokio
#                        (benches/tokio_peer), smol (benches/smol_peer)
#   THREADS=2            worker threads (--threads)
#   N1=5000 N2=25000     round trips of the two runs
#   CARGO=cargo          the cargo that builds the Rust peers
#   REACTOR_BENCH=PATH   a reactor_bench binary to use instead of building
#                        one (copy the old and new -c opt binaries to /tmp
#                        to compare a change)
set -euo pipefail

peers="${PEERS:-weft tokio}"
threads="${THREADS:-2}"
n1="${N1:-5000}"
n2="${N2:-25000}"
RUNS_PER_PROCESS=2  # one warm-up + one measured run of tcp_rtt per process

if [ "$n2" -le "$n1" ]; then
  echo "syscalls.sh: N2 must be larger than N1" >&2
  exit 2
fi
command -v strace >/dev/null 2>&1 || { echo "syscalls.sh: strace not found (apt-get install strace)" >&2; exit 1; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo="${CARGO:-cargo}"

need_cpp=""
need_tokio=""
need_smol=""
for p in $peers; do
  case "$p" in
    weft | asio | std) need_cpp=1 ;;
    tokio) need_tokio=1 ;;
    smol) need_smol=1 ;;
    *) echo "syscalls.sh: unknown peer $p" >&2; exit 2 ;;
  esac
done

if [ -n "${REACTOR_BENCH:-}" ]; then
  reactor_bin="$REACTOR_BENCH"  # a copied binary: before/after comparisons
elif [ -n "$need_cpp" ]; then
  bazel build -c opt //benches:reactor_bench >&2
  reactor_bin="$(bazel info -c opt bazel-bin 2>/dev/null)/benches/reactor_bench"
fi
cargo_build() {  # DIR: as benches/run.sh (Cargo.lock resolved afresh, offline)
  (
    cd "$1"
    "$cargo" generate-lockfile --offline
    "$cargo" build --release --offline --target-dir "$1/target"
  ) >&2
}
if [ -n "$need_tokio" ]; then cargo_build "$root/benches/tokio_peer"; fi
if [ -n "$need_smol" ]; then cargo_build "$root/benches/smol_peer"; fi

command_of() {  # PEER: the command that runs its tcp_rtt
  case "$1" in
    weft | asio | std) echo "$reactor_bin --peer $1" ;;
    tokio) echo "$root/benches/tokio_peer/target/release/tokio_reactor" ;;
    smol) echo "$root/benches/smol_peer/target/release/smol_peer" ;;
  esac
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for p in $peers; do
  for n in "$n1" "$n2"; do
    echo "strace: $p tcp_rtt --threads $threads --round-trips $n" >&2
    # shellcheck disable=SC2046  # the command is words on purpose
    strace -f -c -o "$tmp/$p.$n.txt" $(command_of "$p") \
      --threads "$threads" --round-trips "$n" tcp_rtt >"$tmp/$p.$n.json"
    grep -q '"workload":"tcp_rtt"' "$tmp/$p.$n.json" || {
      echo "syscalls.sh: $p printed no tcp_rtt line" >&2
      exit 1
    }
  done
done

python3 - "$tmp" "$n1" "$n2" "$RUNS_PER_PROCESS" "$threads" $peers <<'EOF'
import sys

tmp, n1, n2, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
peers = sys.argv[6:]
IO = ("read", "write", "recvfrom", "sendto", "recvmsg", "sendmsg", "readv",
      "writev", "epoll_wait", "epoll_pwait", "epoll_pwait2")


def counts(path):
    """strace -c's summary: syscall -> (calls, errors)."""
    out = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            # "% time seconds usecs/call calls [errors] syscall"
            if len(fields) not in (5, 6) or not fields[3].isdigit():
                continue
            if fields[-1] == "total":
                continue
            errors = int(fields[4]) if len(fields) == 6 else 0
            out[fields[-1]] = (int(fields[3]), errors)
    return out


round_trips = (n2 - n1) * runs
print(f"Syscalls per tcp_rtt round trip (strace -f -c, --threads {threads}; "
      f"({n2} - {n1}) x {runs} round trips; floor: 4, i.e. 2 per side)\n")
print("| peer | I/O + epoll calls | per side | failed (EAGAIN) | all syscalls | breakdown |")
print("|---|---:|---:|---:|---:|---|")
for p in peers:
    a = counts(f"{tmp}/{p}.{n1}.txt")
    b = counts(f"{tmp}/{p}.{n2}.txt")
    per = {}
    for name in set(a) | set(b):
        ca, ea = a.get(name, (0, 0))
        cb, eb = b.get(name, (0, 0))
        per[name] = ((cb - ca) / round_trips, (eb - ea) / round_trips)
    io = sum(c for n, (c, _) in per.items() if n in IO)
    failed = sum(e for n, (_, e) in per.items() if n in IO)
    total = sum(c for c, _ in per.values())
    shown = sorted(((n, c, e) for n, (c, e) in per.items() if abs(c) >= 0.005),
                   key=lambda x: -x[1])
    breakdown = ", ".join(
        f"{n} {c:.2f}" + (f" ({e:.2f} failed)" if e >= 0.005 else "")
        for n, c, e in shown)
    print(f"| {p} | {io:.2f} | {io / 2:.2f} | {failed:.2f} | {total:.2f} | {breakdown} |")
EOF
