// Issue #14: fs:: calls on FIFOs, sockets and terminals return at once
// instead of holding a blocking-pool thread for ever (open(2) of a FIFO
// waits for its other end; a read waits for data). Each refusal names the
// stream APIs to use instead. Before the fix every call here hung: the
// test would time out.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <thread>
#include <filesystem>
#include <string>

#include "fs_test_util.h"
#include "weft.h"

namespace fs = weft::fs;
using weft_test::run;
using weft_test::TempDir;

namespace {

// InvalidArgument, naming the path, the kind of stream and what to use.
void check_stream_refused(const absl::Status& st, const std::filesystem::path& p,
                          const char* kind) {
  INFO(st.ToString());
  CHECK(absl::IsInvalidArgument(st));
  const std::string msg(st.message());
  CHECK_THAT(msg, Catch::Contains(p.native()));
  CHECK_THAT(msg, Catch::Contains(kind));
  CHECK_THAT(msg, Catch::Contains("Async<T>"));
  CHECK_THAT(msg, Catch::Contains("Unblock<T>"));
}

std::filesystem::path make_fifo(const TempDir& tmp) {
  std::filesystem::path p = tmp / "fifo";
  REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
  return p;
}

}  // namespace

TEST_CASE("whole-file reads refuse a FIFO instead of waiting for a writer", "[fs][stream]") {
  TempDir tmp;
  const auto fifo = make_fifo(tmp);
  check_stream_refused(run(fs::read_to_string(fifo)).status(), fifo, "is a FIFO");
  check_stream_refused(run(fs::read(fifo)).status(), fifo, "is a FIFO");
  check_stream_refused(run(fs::read_to_string(fifo, 10)).status(), fifo, "is a FIFO");
}

TEST_CASE("a FIFO with a writer attached is still refused, not read", "[fs][stream]") {
  // The open would not wait here; the read would, for as long as the
  // writer stays silent.
  TempDir tmp;
  const auto fifo = make_fifo(tmp);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // lets a writer open
  REQUIRE(reader >= 0);
  int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  REQUIRE(writer >= 0);
  check_stream_refused(run(fs::read_to_string(fifo)).status(), fifo, "is a FIFO");
  check_stream_refused(run(fs::write(fifo, std::string("x"))), fifo, "is a FIFO");
  ::close(writer);
  ::close(reader);
}

TEST_CASE("fs::write refuses a FIFO with no reader", "[fs][stream]") {
  TempDir tmp;
  const auto fifo = make_fifo(tmp);
  check_stream_refused(run(fs::write(fifo, std::string("data"))), fifo, "is a FIFO");
}

TEST_CASE("fs::copy refuses a FIFO on either side", "[fs][stream]") {
  TempDir tmp;
  const auto fifo = make_fifo(tmp);
  weft_test::write_file(tmp / "src", "data");
  check_stream_refused(run(fs::copy(fifo, tmp / "out")).status(), fifo, "is a FIFO");
  CHECK(!std::filesystem::exists(tmp / "out"));
  check_stream_refused(run(fs::copy(tmp / "src", fifo)).status(), fifo, "is a FIFO");
}

TEST_CASE("File::open refuses a FIFO for reading and for writing", "[fs][stream]") {
  TempDir tmp;
  const auto fifo = make_fifo(tmp);
  check_stream_refused(run(fs::File::open(fifo)).status(), fifo, "is a FIFO");
  check_stream_refused(run(fs::File::create(fifo)).status(), fifo, "is a FIFO");
  check_stream_refused(run(fs::File::open(fifo, {.read = true, .write = true})).status(), fifo,
                       "is a FIFO");
}

TEST_CASE("a Unix socket's path is refused as a socket", "[fs][stream]") {
  // The sandbox's TEST_TMPDIR is too long for sun_path: a short directory.
  char dir_template[] = "/tmp/weft-sock-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::filesystem::path dir = dir_template;
  const std::filesystem::path p = dir / "sock";
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, p.c_str());
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  check_stream_refused(run(fs::read_to_string(p)).status(), p, "is a socket");
  check_stream_refused(run(fs::File::open(p)).status(), p, "is a socket");
  check_stream_refused(run(fs::copy("/proc/self/status", p)).status(), p, "is a socket");
  ::close(s);
  std::filesystem::remove_all(dir);
}

TEST_CASE("reading a terminal with no input fails with Unavailable, not a wait",
          "[fs][stream]") {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    if (master >= 0) ::close(master);
    WARN("skipped: no pseudo-terminal here");
    return;
  }
  const std::filesystem::path slave = ::ptsname(master);
  // Keep one blocking descriptor of the slave open, as a shell would.
  auto r = run(fs::read_to_string(slave));
  INFO(r.status().ToString());
  CHECK(absl::IsUnavailable(r.status()));
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("would block"));
  CHECK_THAT(std::string(r.status().message()), Catch::Contains(slave.native()));
  ::close(master);
}

TEST_CASE("devices that never wait are still read and written", "[fs][stream]") {
  auto zeros = run(fs::read("/dev/zero", 4096));
  CHECK(absl::IsResourceExhausted(zeros.status()));  // endless: over any limit
  auto null = run(fs::read_to_string("/dev/null"));
  REQUIRE(null.ok());
  CHECK(null->empty());
  CHECK(run(fs::write("/dev/null", std::string("discarded"))).ok());
  auto f = run(fs::File::open("/dev/zero"));
  REQUIRE(f.ok());
  std::string buf(100, 'x');
  auto n = weft::block_on(f->read(std::span<char>(buf)));
  REQUIRE(n.ok());
  CHECK(*n == 100);
  CHECK(buf == std::string(100, '\0'));
  CHECK(weft::block_on(f->close()).ok());
}

namespace {
std::atomic<bool> lease_break_signalled{false};
// Safety: only a lock-free atomic store, which is async-signal-safe.
void on_lease_break(int) {
  lease_break_signalled.store(true, std::memory_order_relaxed);  // read by the test's wait loop
}
}  // namespace

TEST_CASE("a file lease held against an open is waited for, not reported as an error",
          "[fs][stream]") {
  // A non-blocking open of a leased file fails with EWOULDBLOCK; open_no_wait
  // then waits for the lease (which the kernel bounds) with a blocking open.
  TempDir tmp;
  const auto p = tmp / "leased";
  weft_test::write_file(p, "old");
  int holder = ::open(p.c_str(), O_RDONLY);
  REQUIRE(holder >= 0);
  struct sigaction sa {}, old {};
  sa.sa_handler = on_lease_break;
  REQUIRE(::sigaction(SIGIO, &sa, &old) == 0);
  if (::fcntl(holder, F_SETLEASE, F_RDLCK) != 0) {
    ::sigaction(SIGIO, &old, nullptr);
    ::close(holder);
    WARN("skipped: no file leases here");
    return;
  }
  lease_break_signalled.store(false, std::memory_order_relaxed);  // no pairing: before the job
  auto job = fs::write(p, std::string("new"));  // a writer breaks the read lease
  // The kernel signals the holder when the open asks for the lease; the
  // holder then lets go, as a lease holder must.
  while (!lease_break_signalled.load(std::memory_order_relaxed)) {  // set by on_lease_break
    std::this_thread::yield();
  }
  REQUIRE(::fcntl(holder, F_SETLEASE, F_UNLCK) == 0);
  absl::Status st = job.wait();
  INFO(st.ToString());
  CHECK(st.ok());
  CHECK(weft_test::read_file(p) == "new");
  ::sigaction(SIGIO, &old, nullptr);
  ::close(holder);
}
