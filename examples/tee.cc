// tee: runs a program, copies its standard output both to a file and to our
// standard output, and exits with the program's status.
//
//   tee OUTPUT_FILE PROGRAM [ARGS...]
//   tee log.txt /bin/sh -c 'echo hello; exit 3'    # prints hello, exits 3
//
// The child's stdin and stderr are ours (inherited); its stdout is a pipe
// (weft::Command, Stdio::kPiped) read as an async stream. Both destinations
// are weft::fs::File (the file, and a duplicate of fd 1 so any kind of
// stdout works: a terminal, a pipe, a regular file). A child killed by a
// signal makes tee exit with 128 + the signal's number, as a shell reports
// it. Errors (the program cannot be started, a write fails) go to stderr
// with exit code 125 (as env(1)/timeout(1) report their own failures).
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "base/errno_status.h"
#include "weft.h"

namespace {

constexpr int kOwnFailure = 125;

int fail(const absl::Status& st) {
  std::fprintf(stderr, "tee: %s\n", st.ToString().c_str());
  return kOwnFailure;
}

weft::Task<int> run(std::string path, std::vector<std::string> argv) {
  auto file = co_await weft::fs::File::create(path);
  if (!file.ok()) co_return fail(file.status());
  const int out_fd = ::dup(STDOUT_FILENO);
  if (out_fd < 0) co_return fail(weft::errno_status(errno, "dup(1)"));
  weft::fs::File out = weft::fs::File::from_fd(out_fd, "<stdout>");

  weft::Command cmd(argv[0]);
  cmd.args(std::vector<std::string>(argv.begin() + 1, argv.end())).stdout(weft::Stdio::kPiped);
  auto child = cmd.spawn();
  if (!child.ok()) co_return fail(child.status());

  std::vector<std::byte> buf(64 * 1024);
  absl::Status copy_error;
  for (;;) {
    absl::StatusOr<size_t> n = co_await child->stdout().read(buf);
    if (!n.ok()) {
      copy_error = n.status();
      break;
    }
    if (*n == 0) break;
    const auto chunk = std::span<const std::byte>(buf).first(*n);
    absl::Status st = co_await weft::write_all(*file, chunk);
    if (st.ok()) st = co_await weft::write_all(out, chunk);
    // Our stdout may be a terminal: show each chunk as it comes.
    if (st.ok()) st = co_await out.flush();
    if (!st.ok()) {
      copy_error = st;
      break;
    }
  }
  // On a copy error, stop reading: the child then gets EPIPE (or SIGPIPE)
  // on its next write, and we still wait for it so it is not left behind.
  child->stdout().close();
  absl::StatusOr<weft::ExitStatus> status = co_await child->wait();
  absl::Status closed = co_await file->close();
  absl::Status out_closed = co_await out.close();
  if (!copy_error.ok()) co_return fail(copy_error);
  if (!closed.ok()) co_return fail(closed);
  if (!out_closed.ok()) co_return fail(out_closed);
  if (!status.ok()) co_return fail(status.status());
  if (auto sig = status->signal()) co_return 128 + *sig;
  co_return status->code().value_or(kOwnFailure);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tee OUTPUT_FILE PROGRAM [ARGS...]\n");
    return 2;
  }
  return weft::block_on(run(argv[1], std::vector<std::string>(argv + 2, argv + argc)));
}
