// Unblock<T>: reading and writing pipes and FILE* streams from tasks,
// both directions on one stream, the destructor's last job, a broken pipe,
// and a read cancelled while its job is blocked in read(2).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "blocking_pool/unblock_io.h"
#include "fs_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft::BlockingFd;
using weft::StdioFile;
using weft::Unblock;

namespace {

struct Pipe {
  Pipe() { REQUIRE(::pipe(fds) == 0); }
  ~Pipe() {
    if (fds[0] >= 0) ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  int take_read() { return std::exchange(fds[0], -1); }
  int take_write() { return std::exchange(fds[1], -1); }
  int fds[2];
};

// Writes `data` to `fd` in pieces of varying size, then closes it.
std::thread write_then_close(int fd, std::string data) {
  return std::thread([fd, data = std::move(data)] {
    size_t off = 0, step = 1;
    while (off < data.size()) {
      size_t n = std::min(step, data.size() - off);
      ssize_t w = ::write(fd, data.data() + off, n);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
      step = step * 3 % 70001 + 1;
    }
    ::close(fd);
  });
}

// Reads `fd` to the end.
std::thread read_all_into(int fd, std::string* out) {
  return std::thread([fd, out] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out->append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
  });
}

weft::Task<std::string> drain(Unblock<BlockingFd>& in, size_t step) {
  std::string out;
  std::vector<char> buf(step);
  for (;;) {
    auto n = co_await in.read(std::span(buf));
    REQUIRE(n.ok());
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  co_return out;
}

}  // namespace

TEST_CASE("Unblock reads a pipe to its end", "[unblock_io]") {
  Pipe p;
  const std::string data = weft_test::pattern(1 << 20);
  std::thread writer = write_then_close(p.take_write(), data);
  Unblock<BlockingFd> in(BlockingFd(p.take_read(), "pipe"));
  std::string got = weft::block_on(drain(in, 1000));
  writer.join();
  CHECK(got == data);
}

TEST_CASE("Unblock writes a pipe; flush and destruction deliver everything", "[unblock_io]") {
  Pipe p;
  std::string got;
  std::thread reader = read_all_into(p.take_read(), &got);
  const std::string data = weft_test::pattern(1 << 20, 3);
  weft::block_on([](int fd, const std::string& data) -> weft::Task<void> {
    Unblock<BlockingFd> out(BlockingFd(fd, "pipe"));
    for (size_t off = 0; off < data.size(); off += 777) {
      auto w = co_await out.write(std::string_view(data).substr(off, 777));
      REQUIRE(w.ok());
    }
    absl::Status flushed = co_await out.flush();
    REQUIRE(flushed.ok());
    auto tail = co_await out.write(std::string_view("tail"));  // left buffered
    REQUIRE(tail.ok());
    // `out` goes here: its last job writes "tail" and closes the pipe.
  }(p.take_write(), data));
  reader.join();  // returns once the pipe is closed
  CHECK(got == data + "tail");
}

TEST_CASE("one Unblock in both directions (an echo over two pipes)", "[unblock_io]") {
  // A stream type that writes to one pipe and reads from another, like a
  // terminal or a socket: a read first flushes what was written.
  struct Duplex {
    BlockingFd in, out;
    absl::StatusOr<size_t> read(std::span<std::byte> b) { return in.read(b); }
    absl::StatusOr<size_t> write(std::span<const std::byte> d) { return out.write(d); }
  };
  Pipe to_echo, from_echo;
  std::thread echo([in = to_echo.take_read(), out = from_echo.take_write()] {
    char buf[256];
    for (;;) {
      ssize_t n = ::read(in, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) buf[i] = static_cast<char>(std::toupper(buf[i]));
      if (::write(out, buf, static_cast<size_t>(n)) != n) break;
    }
    ::close(in);
    ::close(out);
  });
  std::string replies = weft::block_on(
      [](Duplex d) -> weft::Task<std::string> {
        Unblock<Duplex> io(std::move(d));
        std::string all;
        for (const char* word : {"ping", "pong", "done"}) {
          auto w = co_await io.write(std::string_view(word));
          REQUIRE(w.ok());
          char buf[16];
          size_t got = 0;
          while (got < 4) {  // no flush() call: the read flushes the write
            auto n = co_await io.read(std::span(buf + got, 4 - got));
            REQUIRE(n.ok());
            REQUIRE(*n > 0);
            got += *n;
          }
          all.append(buf, 4);
        }
        co_return all;
      }(Duplex{BlockingFd(from_echo.take_read(), "echo-out"),
               BlockingFd(to_echo.take_write(), "echo-in")}));
  echo.join();
  CHECK(replies == "PINGPONGDONE");
}

TEST_CASE("Unblock over a FILE*", "[unblock_io]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  const std::string data = weft_test::pattern(300000, 5);
  std::string back = weft::block_on([](std::FILE* f, const std::string& data)
                                        -> weft::Task<std::string> {
    Unblock<StdioFile> out(StdioFile(f, "tmpfile", /*owned=*/true));
    auto w = co_await out.write(data);
    REQUIRE(w.ok());
    auto file = co_await out.into_inner();  // flushed, and ours again
    REQUIRE(file.ok());
    std::rewind(file->get());
    Unblock<StdioFile> in(std::move(*file));
    std::string all;
    char buf[5000];
    for (;;) {
      auto n = co_await in.read(std::span(buf));
      REQUIRE(n.ok());
      if (*n == 0) break;
      all.append(buf, *n);
    }
    co_return all;
  }(f, data));
  CHECK(back == data);
}

TEST_CASE("writing to a pipe nobody reads fails with EPIPE, not SIGPIPE", "[unblock_io]") {
  Pipe p;
  ::close(p.take_read());
  absl::Status st = weft::block_on([](int fd) -> weft::Task<absl::Status> {
    Unblock<BlockingFd> out(BlockingFd(fd, "orphan pipe"));
    auto w = co_await out.write(std::string_view("hello"));
    REQUIRE(w.ok());  // buffered
    co_return co_await out.flush();
  }(p.take_write()));
  CHECK_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()), Catch::Contains("orphan pipe"));
  CHECK_THAT(std::string(st.message()), Catch::Contains("Broken pipe"));
}

TEST_CASE("a read cancelled while blocked in read(2) loses no data", "[unblock_io]") {
  Pipe p;
  int writer_fd = p.take_write();
  Unblock<BlockingFd> in(BlockingFd(p.take_read(), "pipe"));
  weft::LocalExecutor ex;
  bool resumed = false;
  auto h = ex.spawn([](Unblock<BlockingFd>* in, bool* resumed) -> weft::Task<void> {
    char buf[100];
    auto n = co_await in->read(std::span(buf));
    *resumed = true;  // never: cancelled first
    (void)n;
  }(&in, &resumed));
  while (ex.try_tick()) {
  }
  h = {};  // cancel while the job waits for data in read(2)
  while (ex.try_tick()) {
  }
  CHECK_FALSE(resumed);
  REQUIRE(::write(writer_fd, "late data", 9) == 9);
  ::close(writer_fd);
  // The job that was in flight got "late data"; the next read returns it.
  std::string got = ex.run(drain(in, 100));
  CHECK(got == "late data");
}

TEST_CASE("two operations at once on one Unblock are refused", "[unblock_io]") {
  Pipe p;
  int writer_fd = p.take_write();
  Unblock<BlockingFd> in(BlockingFd(p.take_read(), "pipe"));
  weft::LocalExecutor ex;
  auto reader = [](Unblock<BlockingFd>* in) -> weft::Task<size_t> {
    char buf[10];
    auto n = co_await in->read(std::span(buf));
    co_return n.ok() ? *n : 0;
  };
  auto a = ex.spawn(reader(&in));
  auto b = ex.spawn(reader(&in));
  while (ex.try_tick()) {
  }
  REQUIRE(::write(writer_fd, "0123456789", 10) == 10);
  ::close(writer_fd);
  int result = ex.run([](weft::JoinHandle<size_t>& a, weft::JoinHandle<size_t>& b) -> weft::Task<int> {
    size_t first = co_await a;
    CHECK(first == 10);
    try {
      co_await b;
    } catch (const std::logic_error& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("two operations at once"));
      co_return 1;
    }
    co_return 0;
  }(a, b));
  CHECK(result == 1);
}
