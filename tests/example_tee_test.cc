// examples/tee run as a process (through weft::Command): what the child
// prints reaches both the file and tee's stdout, byte for byte, and tee
// exits with the child's status (128 + signal when it was killed).
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "weft.h"

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = ::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<weft::Output> run_tee(const std::string& file, const std::string& script) {
  return weft::block_on(
      weft::Command("examples/tee").args({file, "/bin/sh", "-c", script}).output());
}

}  // namespace

TEST_CASE("tee copies the child's output to the file and to stdout, and exits with its code") {
  const std::string file = temp_path("tee_small.txt");
  auto out = run_tee(file, "printf 'hello\\nworld\\n'; echo to-stderr >&2; exit 3");
  REQUIRE(out.ok());
  CHECK(out->status.code() == 3);
  CHECK(out->stdout == "hello\nworld\n");
  CHECK(out->stderr == "to-stderr\n");  // inherited: not teed
  CHECK(read_file(file) == "hello\nworld\n");
}

TEST_CASE("tee passes several MiB through unchanged") {
  const std::string file = temp_path("tee_big.txt");
  auto out = run_tee(file, "i=0; while [ $i -lt 40 ]; do head -c 100000 /dev/urandom; i=$((i+1)); done");
  REQUIRE(out.ok());
  CHECK(out->status.success());
  CHECK(out->stdout.size() == 4000000);
  CHECK(read_file(file) == out->stdout);
}

TEST_CASE("tee reports a child killed by a signal as 128 + the signal") {
  auto out = run_tee(temp_path("tee_killed.txt"), "echo before; kill -KILL $$");
  REQUIRE(out.ok());
  CHECK(out->status.code() == 128 + SIGKILL);
  CHECK(out->stdout == "before\n");
}

TEST_CASE("tee says why when the program cannot be started") {
  auto out = weft::block_on(
      weft::Command("examples/tee").args({temp_path("tee_missing.txt"), "/nonexistent/prog"}).output());
  REQUIRE(out.ok());
  CHECK(out->status.code() == 125);
  CHECK(out->stderr.find("/nonexistent/prog") != std::string::npos);
}
