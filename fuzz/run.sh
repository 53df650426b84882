#!/usr/bin/env bash
# Builds weft's libFuzzer targets with clang (a plain clang++ command line:
# it works offline and needs nothing from Bazel) and runs each one for a
# while on its seed corpus.
#
#   fuzz/run.sh                 # every target, 60 s each
#   fuzz/run.sh 7               # every target, 7 s each (what .ci/run does)
#   fuzz/run.sh 600 http_framing   # one target, 10 minutes
#
# Targets: socket_address (SocketAddress::parse, split_host_port, from_ip),
# unix_address (UnixAddress::from_path, abstract, from_sockaddr),
# http_framing (examples/http_framing.h). Seeds live in fuzz/corpus/<target>/
# (kept in git, small); inputs a run discovers go to a scratch directory
# (FUZZ_WORK, default a temp dir) so the repository is not touched. A crash
# leaves its input in FUZZ_WORK as crash-<hash>; fix the bug, add the input to
# a regression test, and add it to the corpus. See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(socket_address unix_address http_framing); fi

CXX="${CXX:-clang++}"
if [ -n "${FUZZ_WORK:-}" ]; then
  work="$FUZZ_WORK"
  mkdir -p "$work"
else
  work=$(mktemp -d)  # removed at the end unless a target failed
fi

# Debian's abseil (g++-built shared libraries, not instrumented: only weft's
# own code and the target carry the fuzzer's coverage and ASan/UBSan checks).
absl_libs=$(pkg-config --libs absl_status absl_statusor absl_strings absl_str_format)
flags=(-std=c++20 -g -O1 -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter)

declare -A sources=(
  [socket_address]="fuzz/socket_address_fuzz.cc async_fd/address.cc base/c_string.cc"
  [unix_address]="fuzz/unix_address_fuzz.cc async_fd/unix_address.cc base/c_string.cc"
  [http_framing]="fuzz/http_framing_fuzz.cc"
)

status=0
for t in "${targets[@]}"; do
  if [ -z "${sources[$t]:-}" ]; then echo "fuzz: no target named $t" >&2; exit 2; fi
  bin="$work/${t}_fuzz"
  # shellcheck disable=SC2086  # the source and library lists split on purpose
  "$CXX" "${flags[@]}" ${sources[$t]} $absl_libs -o "$bin"
  mkdir -p "$work/corpus_$t"
  echo "fuzz: $t for ${seconds} s"
  # New inputs go to the scratch corpus; the seed corpus is only read. One
  # input runs in well under a second; -timeout is generous because a loaded CI
  # machine once stalled a unit for 10 s.
  if ! (cd "$work" && "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=30 \
          -print_final_stats=1 "corpus_$t" "$OLDPWD/fuzz/corpus/$t" 2>&1 | tail -n 12); then
    echo "fuzz: $t FAILED (the input is in $work)" >&2
    status=1
  fi
done
if [ "$status" -eq 0 ] && [ -z "${FUZZ_WORK:-}" ]; then rm -rf "$work"; fi
exit "$status"
