// TcpListener::accept when the process is out of file descriptors: the
// accept fails with ResourceExhausted, the connection stays queued, and
// the listener accepts it once fds are free again.
//
// Its own binary: it lowers RLIMIT_NOFILE for the whole process.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <optional>
#include <vector>

#include "net_test_util.h"
#include "weft.h"

using weft::SocketAddress;
using weft::Task;
using weft::TcpListener;
using weft::TcpStream;

namespace {

// Lowers the soft fd limit for its lifetime and fills every free fd below
// it; release() frees them again. Restores the limit on destruction.
class FdExhaustion {
 public:
  FdExhaustion() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    rlimit low = saved_;
    // Room for what is open now plus a margin; small, so filling is quick.
    low.rlim_cur = static_cast<rlim_t>(weft_test::highest_open_fd() + 64);
    REQUIRE(low.rlim_cur <= saved_.rlim_cur);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    lowered_ = true;
    // No assertions from here until the fds are freed: UBSan's vptr check
    // (run by Catch2's assertion objects) needs a pipe, and fails with a
    // bogus "invalid vptr" report when the process is out of fds.
    for (;;) {
      const int fd = ::dup(STDERR_FILENO);
      if (fd < 0) {
        stopped_by_emfile_ = errno == EMFILE;
        break;
      }
      fillers_.push_back(fd);
    }
  }
  ~FdExhaustion() {
    release(fillers_.size());
    if (lowered_) ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  FdExhaustion(const FdExhaustion&) = delete;
  FdExhaustion& operator=(const FdExhaustion&) = delete;

  // Closes `n` of the filler fds.
  void release(size_t n) {
    for (size_t i = 0; i < n && !fillers_.empty(); ++i) {
      ::close(fillers_.back());
      fillers_.pop_back();
    }
  }
  size_t held() const { return fillers_.size(); }
  bool stopped_by_emfile() const { return stopped_by_emfile_; }

 private:
  rlimit saved_{};
  bool lowered_ = false;
  bool stopped_by_emfile_ = false;
  std::vector<int> fillers_;
};

}  // namespace

TEST_CASE("TCP: accept under EMFILE returns ResourceExhausted; the listener recovers",
          "[tcp][emfile]") {
  auto listener = TcpListener::bind(SocketAddress::loopback_v4(0));
  weft_test::require_ok(listener);
  const SocketAddress at = listener->local_address().value();

  weft::block_on([&]() -> Task<void> {
    // Connected by the kernel, waiting in the backlog for accept.
    auto first = co_await TcpStream::connect(at);
    weft_test::require_ok(first);

    // Results are kept and checked after the fds are freed (see FdExhaustion).
    absl::Status exhausted;
    absl::Status exhausted_again;
    absl::Status accepted, wrote, read;
    bool by_emfile = false;
    size_t held = 0;
    std::optional<SocketAddress> peer;
    std::string echoed;
    {
      FdExhaustion fds;
      by_emfile = fds.stopped_by_emfile();
      held = fds.held();
      auto r = co_await listener->accept();
      exhausted = r.status();
      // Not spinning inside: it returns, and calling again fails the same way.
      auto r2 = co_await listener->accept();
      exhausted_again = r2.status();
      // One fd free: the queued connection is accepted now.
      fds.release(1);
      auto ok = co_await listener->accept();
      accepted = ok.status();
      if (ok.ok()) {
        peer = ok->second;
        wrote = co_await first->write_all("after", 5);
        char buf[5];
        read = co_await ok->first.read_exact(buf, 5);
        if (read.ok()) echoed.assign(buf, 5);
      }
    }  // fds freed, limit restored
    REQUIRE(by_emfile);
    REQUIRE(held > 0);
    weft_test::require_ok(accepted);
    CHECK(*peer == first->local_address().value());
    weft_test::require_ok(wrote);
    weft_test::require_ok(read);
    CHECK(echoed == "after");

    CHECK(absl::IsResourceExhausted(exhausted));
    CHECK_THAT(std::string(exhausted.message()), Catch::Contains(std::strerror(EMFILE)));
    CHECK_THAT(std::string(exhausted.message()), Catch::Contains("TcpListener::accept"));
    CHECK(absl::IsResourceExhausted(exhausted_again));

    // And the listener keeps working for new connections.
    auto second = co_await TcpStream::connect(at);
    weft_test::require_ok(second);
    auto s = co_await listener->accept();
    weft_test::require_ok(s);
    CHECK(s->second == second->local_address().value());
  }());
}
