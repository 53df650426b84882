// fs::File: streaming reads and writes through its read-ahead and
// write-behind buffers, positions after mixing reads, writes and seeks,
// positional I/O, deferred write errors, open errors, the destructor's last
// job, misuse, and cancellation in the middle of an operation.
//
// No co_await inside a CHECK/REQUIRE: with g++ 12, Catch's macros evaluate
// the awaited operation three times (the expression also goes to
// __builtin_constant_p and to the do/while condition, and g++ evaluates an
// await even there). Await first, then check.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "fs_test_util.h"
#include "weft.h"

namespace fs = weft::fs;
using weft_test::TempDir;

namespace {

template <class T>
T run(weft::Task<T> t) {
  return weft::block_on(std::move(t));
}

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// Opens `p` or fails the test.
weft::Task<fs::File> must_open(std::filesystem::path p, fs::OpenOptions o) {
  auto f = co_await fs::File::open(std::move(p), o);
  REQUIRE(f.ok());
  co_return std::move(*f);
}

// Reads the whole file in `step`-byte reads.
weft::Task<std::string> read_all(fs::File& f, size_t step) {
  std::string out;
  std::vector<char> buf(step);
  for (;;) {
    auto n = co_await f.read(std::span(buf));
    REQUIRE(n.ok());
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  co_return out;
}

}  // namespace

TEST_CASE("write then read back in odd-sized pieces", "[fs][file]") {
  TempDir tmp;
  const std::string data = weft_test::pattern(10 * 1024 * 1024 + 333);
  for (size_t step : {size_t{1} << 16, size_t{7919}, size_t{3} << 20}) {
    INFO("step " << step);
    run([](std::filesystem::path p, const std::string& data, size_t step) -> weft::Task<int> {
      auto out = co_await fs::File::create(p);
      REQUIRE(out.ok());
      for (size_t off = 0; off < data.size(); off += step) {
        size_t n = std::min(step, data.size() - off);
        auto w = co_await out->write(std::string_view(data).substr(off, n));
        REQUIRE(w.ok());
        CHECK(*w == n);
      }
      absl::Status closed = co_await out->close();
      INFO(closed);
      REQUIRE(closed.ok());
      CHECK(!out->is_open());

      auto in = co_await fs::File::open(p);
      REQUIRE(in.ok());
      std::string back = co_await read_all(*in, step);
      CHECK(back.size() == data.size());
      CHECK(back == data);
      auto again = co_await in->read(std::as_writable_bytes(std::span<char>()));
      CHECK(again.ok());
      co_return 0;
    }(tmp / "f", data, step));
  }
}

TEST_CASE("seek sees the File's position, not the read-ahead's", "[fs][file]") {
  TempDir tmp;
  const std::string data = weft_test::pattern(300000);
  weft_test::write_file(tmp / "f", data);
  run([](std::filesystem::path p, const std::string& data) -> weft::Task<int> {
    fs::File f = co_await must_open(p, {.read = true});
    char buf[100];
    auto n = co_await f.read(std::span(buf));
    REQUIRE(n.ok());
    REQUIRE(*n == 100);  // the file offset is now far ahead (read-ahead)
    auto pos = co_await f.seek(fs::SeekFrom::current(0));
    REQUIRE(pos.ok());
    CHECK(*pos == 100);
    pos = co_await f.seek(fs::SeekFrom::current(-50));
    REQUIRE(pos.ok());
    CHECK(*pos == 50);
    n = co_await f.read(std::span(buf, 10));
    CHECK(std::string(buf, 10) == data.substr(50, 10));
    pos = co_await f.seek(fs::SeekFrom::end(-10));
    REQUIRE(pos.ok());
    CHECK(*pos == data.size() - 10);
    n = co_await f.read(std::span(buf));
    CHECK(*n == 10);
    CHECK(std::string(buf, 10) == data.substr(data.size() - 10));
    pos = co_await f.seek(fs::SeekFrom::start(200000));
    CHECK(*pos == 200000);
    std::string rest = co_await read_all(f, 4096);
    CHECK(rest == data.substr(200000));
    auto bad = co_await f.seek(fs::SeekFrom::current(-1'000'000));
    CHECK(absl::IsInvalidArgument(bad.status()));
    co_return 0;
  }(tmp / "f", data));
}

TEST_CASE("a write after reads lands at the File's position", "[fs][file]") {
  TempDir tmp;
  std::string data = weft_test::pattern(200000);
  weft_test::write_file(tmp / "f", data);
  run([](std::filesystem::path p) -> weft::Task<int> {
    fs::File f = co_await must_open(p, {.read = true, .write = true});
    char buf[1000];
    auto r0 = co_await f.read(std::span(buf));
    REQUIRE(*(r0) == 1000);
    auto r1 = co_await f.write(std::string_view("HELLO"));
    REQUIRE((r1).ok());
    // Reading again continues after what was written.
    auto n = co_await f.read(std::span(buf, 5));
    REQUIRE(n.ok());
    CHECK(*n == 5);
    auto r2 = co_await f.close();
    REQUIRE((r2).ok());
    co_return 0;
  }(tmp / "f"));
  std::string expect = data;
  expect.replace(1000, 5, "HELLO");
  CHECK(weft_test::read_file(tmp / "f") == expect);
}

TEST_CASE("read_at and write_at leave the position alone", "[fs][file]") {
  TempDir tmp;
  std::string data = weft_test::pattern(100000);
  weft_test::write_file(tmp / "f", data);
  run([](std::filesystem::path p, const std::string& data) -> weft::Task<int> {
    fs::File f = co_await must_open(p, {.read = true, .write = true});
    char buf[10];
    auto r3 = co_await f.read(std::span(buf));
    REQUIRE(*(r3) == 10);
    std::vector<std::byte> at(16);
    auto n = co_await f.read_at(5000, at);
    REQUIRE(n.ok());
    CHECK(*n == 16);
    CHECK(std::memcmp(at.data(), data.data() + 5000, 16) == 0);
    auto w = co_await f.write_at(90000, bytes("positional"));
    REQUIRE(w.ok());
    CHECK(*w == 10);
    auto pos = co_await f.seek(fs::SeekFrom::current(0));
    CHECK(*pos == 10);
    auto past = co_await f.read_at(1'000'000, at);
    REQUIRE(past.ok());
    CHECK(*past == 0);
    auto r4 = co_await f.close();
    REQUIRE((r4).ok());
    co_return 0;
  }(tmp / "f", data));
  CHECK(weft_test::read_file(tmp / "f").substr(90000, 10) == "positional");
}

TEST_CASE("set_len, metadata, sync and append", "[fs][file]") {
  TempDir tmp;
  run([](std::filesystem::path dir) -> weft::Task<int> {
    auto f = co_await fs::File::create(dir / "f");
    REQUIRE(f.ok());
    auto r5 = co_await f->write(std::string(5000, 'a'));
    REQUIRE((r5).ok());
    auto m = co_await f->metadata();  // sees the buffered bytes: it flushes first
    REQUIRE(m.ok());
    CHECK(m->len() == 5000);
    CHECK(m->is_file());
    auto r6 = co_await f->set_len(100);
    REQUIRE((r6).ok());
    auto r7 = co_await f->metadata();
    CHECK((r7)->len() == 100);
    auto r8 = co_await f->sync_all();
    CHECK((r8).ok());
    auto r9 = co_await f->sync_data();
    CHECK((r9).ok());
    auto r10 = co_await f->close();
    REQUIRE((r10).ok());

    fs::File a = co_await must_open(dir / "f", {.append = true});
    auto r11 = co_await a.write(std::string_view("END"));
    REQUIRE((r11).ok());
    auto r12 = co_await a.close();
    REQUIRE((r12).ok());
    co_return 0;
  }(tmp.path()));
  std::string s = weft_test::read_file(tmp / "f");
  CHECK(s.size() == 103);
  CHECK(s.substr(100) == "END");
}

TEST_CASE("a failed background write is reported by flush", "[fs][file]") {
  run([]() -> weft::Task<int> {
    // Every write to /dev/full fails with ENOSPC.
    fs::File f = co_await must_open("/dev/full", {.write = true});
    auto w = co_await f.write(std::string(10, 'x'));
    CHECK(w.ok());  // buffered
    auto st = co_await f.flush();
    CHECK(absl::IsResourceExhausted(st));
    CHECK_THAT(std::string(st.message()), Catch::Contains("/dev/full"));
    CHECK_THAT(std::string(st.message()), Catch::Contains("No space left on device"));
    // Enough to fill buffers: the failure shows up in write itself.
    absl::Status seen;
    for (int i = 0; i < 64 && seen.ok(); ++i) seen = (co_await f.write(std::string(1 << 20, 'y'))).status();
    CHECK(absl::IsResourceExhausted(seen));
    auto r13 = co_await f.close();
    CHECK(absl::IsResourceExhausted(r13));
    co_return 0;
  }());
}

TEST_CASE("open errors and access checks", "[fs][file]") {
  TempDir tmp;
  weft_test::write_file(tmp / "exists", "x");
  run([](std::filesystem::path dir) -> weft::Task<int> {
    auto missing = co_await fs::File::open(dir / "nope");
    CHECK(absl::IsNotFound(missing.status()));
    CHECK_THAT(std::string(missing.status().message()), Catch::Contains((dir / "nope").native()));

    auto is_dir = co_await fs::File::create(dir);
    CHECK(absl::IsFailedPrecondition(is_dir.status()));
    CHECK_THAT(std::string(is_dir.status().message()), Catch::Contains("Is a directory"));

    auto clash = co_await fs::File::open(dir / "exists", {.write = true, .create_new = true});
    CHECK(absl::IsAlreadyExists(clash.status()));

    auto neither = co_await fs::File::open(dir / "exists", fs::OpenOptions{});
    CHECK(absl::IsInvalidArgument(neither.status()));

    fs::File ro = co_await must_open(dir / "exists", {.read = true});
    auto w = co_await ro.write(std::string_view("no"));
    CHECK(absl::IsFailedPrecondition(w.status()));  // EBADF, at once
    CHECK_THAT(std::string(w.status().message()), Catch::Contains("Bad file descriptor"));

    fs::File wo = co_await must_open(dir / "exists", {.write = true});
    char c;
    auto r = co_await wo.read(std::span(&c, 1));
    CHECK(absl::IsFailedPrecondition(r.status()));

    auto r14 = co_await wo.close();
    REQUIRE((r14).ok());
    auto closed = co_await wo.read(std::span(&c, 1));
    CHECK(absl::IsFailedPrecondition(closed.status()));
    CHECK_THAT(std::string(closed.status().message()), Catch::Contains("closed"));
    co_return 0;
  }(tmp.path()));

  std::filesystem::path denied = weft_test::unwritable_file(tmp.path());
  if (denied.empty()) {
    WARN("skipped: no file here refuses writing to this process");
  } else {
    auto r = weft::block_on([](std::filesystem::path p) -> weft::Task<absl::Status> {
      co_return (co_await fs::File::open(p, {.write = true})).status();
    }(denied));
    CHECK(absl::IsPermissionDenied(r));
  }
}

TEST_CASE("destroying a File without close still writes its buffer", "[fs][file]") {
  TempDir tmp;
  const std::string data = weft_test::pattern(3 * 1024 * 1024 + 5);
  run([](std::filesystem::path p, const std::string& data) -> weft::Task<int> {
    auto f = co_await fs::File::create(p);
    REQUIRE(f.ok());
    auto r15 = co_await f->write(data);  // a job in flight and a buffer left
    REQUIRE((r15).ok());
    co_return 0;
  }(tmp / "f", data));
  // The last job runs on the pool; wait for its effect (bounded).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::filesystem::file_size(tmp / "f") < data.size() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(weft_test::read_file(tmp / "f") == data);
}

TEST_CASE("two operations at once on one File are refused", "[fs][file]") {
  // A File on an empty pipe: the first read stays in its job until the
  // test writes, so the second one surely starts while it is in progress.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  weft::LocalExecutor ex;
  fs::File f = fs::File::from_fd(fds[0], "pipe");
  auto reader = [](fs::File* f) -> weft::Task<size_t> {
    char buf[100];
    auto n = co_await f->read(std::span(buf));
    co_return n.ok() ? *n : 0;
  };
  auto a = ex.spawn(reader(&f));
  auto b = ex.spawn(reader(&f));
  while (ex.try_tick()) {
  }
  REQUIRE(::write(fds[1], "0123456789", 10) == 10);
  ::close(fds[1]);
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

TEST_CASE("a read cancelled while its job runs leaves the File usable", "[fs][file]") {
  TempDir tmp;
  const std::string data = weft_test::pattern(4 << 20);
  weft_test::write_file(tmp / "f", data);
  weft::LocalExecutor ex;
  fs::File f = weft::block_on(must_open(tmp / "f", {.read = true}));
  auto read_some = [](fs::File* f, std::string* out, size_t n) -> weft::Task<void> {
    std::vector<char> buf(n);
    auto r = co_await f->read(std::span(buf));
    REQUIRE(r.ok());
    out->append(buf.data(), *r);
  };
  std::string got;
  for (int round = 0; round < 50; ++round) {
    // Start a read and cancel it at its first suspension (waiting for the
    // pool), whatever the job is doing by then.
    auto h = ex.spawn(read_some(&f, &got, 100000));
    ex.try_tick();
    h = {};
    while (ex.try_tick()) {
    }
  }
  // Reads that ran to completion before being cancelled appended their
  // data; cancelled ones consumed nothing. Either way the File continues
  // exactly where the completed ones left off.
  std::string rest = ex.run([](fs::File* f) -> weft::Task<std::string> {
    co_return co_await read_all(*f, 65536);
  }(&f));
  CHECK(got.size() + rest.size() == data.size());
  CHECK(got + rest == data);
}

TEST_CASE("File reads a pipe through from_fd", "[fs][file]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::thread writer([fd = fds[1]] {
    std::string s = weft_test::pattern(200000);
    for (size_t off = 0; off < s.size();) {
      ssize_t n = ::write(fd, s.data() + off, s.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  std::string got = run([](int fd) -> weft::Task<std::string> {
    fs::File f = fs::File::from_fd(fd, "pipe");
    co_return co_await read_all(f, 8192);
  }(fds[0]));
  writer.join();
  CHECK(got == weft_test::pattern(200000));
}
