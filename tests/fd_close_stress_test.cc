// Stress: an Async<T> closed from another thread while a task reads or
// writes it in a loop, with the freed fd number taken again at once (issue
// #9, item 5; the deterministic version is fd_close_test.cc).
//
// Each round: a task reads (from a socket pre-filled with
// 'L' bytes) or writes ('W' bytes) in small chunks until an operation
// fails (run by block_on on the op thread, or every other pair of rounds
// on a global-executor worker that the op thread joins); the closer thread
// closes the object after a random number of spins
// and immediately opens pipes with an 'X' byte in each, which take the
// freed number (and the ones around it). What must hold:
//   - the task's loop ends with Cancelled, never with another error (a
//     syscall on a number that now names an intruder's other end fails with
//     EBADF);
//   - the task never reads an 'X', and no intruder pipe holds anything but
//     its own 'X' afterwards (no 'W' written into it, its 'X' not consumed).
// Run it under TSan with several runs: `bazel test --config=tsan
// --runs_per_test=5 //tests:fd_close_stress_test`.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "weft.h"

using weft::Async;
using weft::OwnedFd;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kRounds = 1500;  // sanitizers: each round costs ~10x more
#else
constexpr int kRounds = 3000;
#endif
// Pipes the closer opens after each close: enough to take the freed number
// whatever lower numbers happen to be free too.
constexpr int kIntruders = 4;
// Bytes pre-filled for a reading round: many small reads in flight.
constexpr size_t kPrefill = 8192;

// A reusable barrier for a fixed number of threads.
class Rendezvous {
 public:
  explicit Rendezvous(int n) : n_(n) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t phase = phase_;
    if (++arrived_ == n_) {
      arrived_ = 0;
      ++phase_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return phase_ != phase; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const int n_;
  int arrived_ = 0;     // guarded by mu_
  uint64_t phase_ = 0;  // guarded by mu_
};

enum class Mode { kRead, kWrite };

// One round's shared state; written by main before the start rendezvous,
// by the op and closer threads between the two, read by main after the end.
struct Round {
  Mode mode = Mode::kRead;
  bool on_executor = false;  // the task runs on weft::spawn's workers
  std::optional<Async<OwnedFd>> a;
  uint32_t spins = 0;
  absl::Status op_status;       // the op thread's
  bool read_intruder = false;   // the op thread's
  size_t chunks = 0;            // the op thread's: operations that completed
  std::vector<int> intruders;   // the closer's: read end, write end, ...
};

weft::Task<void> op_loop(Round* r) {
  char buf[64];
  for (size_t i = 0;; ++i) {
    const size_t len = 1 + i % sizeof buf;
    if (r->mode == Mode::kRead) {
      auto n = co_await r->a->read(buf, len);
      if (!n.ok()) {
        r->op_status = n.status();
        co_return;
      }
      for (size_t k = 0; k < *n; ++k) {
        if (buf[k] != 'L') r->read_intruder = true;
      }
    } else {
      std::fill(buf, buf + len, 'W');
      auto n = co_await r->a->write(buf, len);
      if (!n.ok()) {
        r->op_status = n.status();
        co_return;
      }
    }
    ++r->chunks;
  }
}

}  // namespace

TEST_CASE("close from another thread while a task loops on read or write, with fd reuse",
          "[async_fd][close][stress]") {
  Rendezvous start(3), end(3);
  Round round;
  bool stop = false;  // written by main before the start rendezvous

  std::thread op_thread([&] {
    for (;;) {
      start.arrive_and_wait();
      if (stop) return;
      if (round.on_executor) {
        auto h = weft::spawn(op_loop(&round));
        weft::block_on([&]() -> weft::Task<void> { co_await h; }());
      } else {
        weft::block_on(op_loop(&round));
      }
      end.arrive_and_wait();
    }
  });
  std::thread closer([&] {
    for (;;) {
      start.arrive_and_wait();
      if (stop) return;
      // A volatile load and store per step keep the delay loop from being
      // optimised away (++ on a volatile is deprecated in C++20: -Wvolatile).
      volatile uint32_t spun = 0;
      for (uint32_t i = 0; i < round.spins; ++i) spun = spun + 1;
      round.a->close();
      for (int k = 0; k < kIntruders; ++k) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) break;
        const char x = 'X';
        [[maybe_unused]] ssize_t n = ::write(p[1], &x, 1);
        round.intruders.push_back(p[0]);
        round.intruders.push_back(p[1]);
      }
      end.arrive_and_wait();
    }
  });

  std::mt19937 rng(12345);
  int cancelled = 0;
  size_t completed_ops = 0;
  for (int i = 0; i < kRounds; ++i) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
    OwnedFd peer(sv[1]);
    round.mode = i % 2 == 0 ? Mode::kRead : Mode::kWrite;
    round.on_executor = (i / 2) % 2 == 1;
    if (round.mode == Mode::kRead) {
      const std::string fill(kPrefill, 'L');
      REQUIRE(::write(peer.get(), fill.data(), fill.size()) == static_cast<ssize_t>(kPrefill));
    }
    round.a.emplace(Async<OwnedFd>::create(OwnedFd(sv[0])).value());
    round.spins = std::uniform_int_distribution<uint32_t>(0, 20000)(rng);
    round.op_status = absl::OkStatus();
    round.read_intruder = false;
    round.chunks = 0;
    round.intruders.clear();

    start.arrive_and_wait();
    end.arrive_and_wait();

    INFO("round " << i << ", status " << round.op_status.ToString());
    CHECK(absl::IsCancelled(round.op_status));
    if (absl::IsCancelled(round.op_status)) ++cancelled;
    CHECK_FALSE(round.read_intruder);
    for (size_t k = 0; k < round.intruders.size(); k += 2) {
      char buf[16];
      const ssize_t n = ::read(round.intruders[k], buf, sizeof buf);
      CHECK(n == 1);
      if (n == 1) CHECK(buf[0] == 'X');
      ::close(round.intruders[k]);
      ::close(round.intruders[k + 1]);
    }
    completed_ops += round.chunks;
    round.a.reset();
  }
  stop = true;
  start.arrive_and_wait();
  op_thread.join();
  closer.join();
  CHECK(cancelled == kRounds);
  // The rounds did race: many operations completed before the closes.
  CHECK(completed_ops > 0);
}
