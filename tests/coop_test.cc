// The cooperative budget (executor/coop.h): a task whose awaits keep
// completing at once yields after `budget` of them, so the other tasks of
// its thread run; budget 0 never yields; an operation deferred by a budget
// yield is done exactly once, and a task cancelled at that yield leaves
// nothing behind.
//
// Each scenario runs one "busy" task that loops on an always-ready await,
// and a second task queued behind it that records how far the busy task
// got when it finally ran. Every loop is bounded (kMaxOps), so a runtime
// that never yields fails the bounds instead of hanging.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft_test::Counted;
using weft_test::fill_pattern;
using weft_test::first_mismatch;

namespace {

using namespace std::chrono_literals;

// Upper bound of every busy loop: far above any budget used here (x2 plus
// slack), so only a budget that never runs out reaches it.
constexpr int kMaxOps = 2000;
constexpr size_t kReadSize = 16;

// Shared by the busy task and the task behind it; both run on one thread.
struct Race {
  int ops = 0;               // awaits the busy task completed
  bool other_ran = false;    // set by the task queued behind it
  int ops_when_other_ran = -1;
  bool error = false;
};

weft::Task<void> mark_other_ran(Race* r) {
  r->other_ran = true;
  r->ops_when_other_ran = r->ops;
  co_return;
}

// The busy task: `op()` (one await) until the other task has run.
weft::Task<void> busy_loop(std::function<weft::Task<void>()> op, Race* r) {
  while (!r->other_ran && r->ops < kMaxOps) {
    co_await op();
    ++r->ops;
  }
}

// Spawns a busy task looping on `op` and, behind it, a task that records
// how many awaits the busy one had completed when it got to run; runs both
// to completion on `ex`.
template <class Ex>
void race(Ex& ex, Race& r, std::function<weft::Task<void>()> op) {
  auto busy = ex.spawn(busy_loop(std::move(op), &r));
  auto other = ex.spawn(mark_other_ran(&r));
  ex.run([&]() -> weft::Task<void> {
    co_await busy;
    co_await other;
  }());
}

// The other task ran after the busy one had used its budget, and not much
// later (a generous bound: twice the budget plus slack). `awaits_per_op`:
// budgeted awaits in one turn of the busy loop.
void check_yielded_at_budget(const Race& r, int budget, int awaits_per_op = 1) {
  const int awaits = r.ops_when_other_ran * awaits_per_op;
  INFO("awaits when the other task ran: " << awaits << ", budget " << budget);
  CHECK_FALSE(r.error);
  CHECK(r.other_ran);
  CHECK(awaits >= budget);
  CHECK(awaits <= 2 * budget + 4);
}

uint64_t forced_yields() { return weft::detail::t_coop.forced_yields; }

// A Unix socketpair whose read end holds `bytes` of pattern 7 and stays
// open, so reads never block and never see the end of the stream.
struct FilledSocket {
  explicit FilledSocket(size_t bytes) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    int rd = fds[0];
    writer = fds[1];
    int sndbuf = 4 << 20;
    ::setsockopt(writer, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    std::vector<uint8_t> data(bytes);
    fill_pattern(7, 0, data.data(), data.size());
    size_t put = 0;
    while (put < bytes) {
      ssize_t n = ::send(writer, data.data() + put, bytes - put, MSG_DONTWAIT);
      if (n <= 0) break;
      put += static_cast<size_t>(n);
    }
    REQUIRE(put == bytes);
    auto a = weft::Async<int>::create(std::move(rd));
    REQUIRE(a.ok());
    reader.emplace(*std::move(a));
  }
  ~FilledSocket() { ::close(writer); }

  std::optional<weft::Async<int>> reader;
  int writer = -1;
};

std::function<weft::Task<void>()> read_op(weft::Async<int>* fd, Race* r) {
  return [fd, r]() -> weft::Task<void> {
    char buf[kReadSize];
    auto n = co_await fd->read(buf, sizeof buf);
    if (!n.ok() || *n != sizeof buf) r->error = true;
  };
}

std::function<weft::Task<void>()> recv_op(weft::Channel<int>* ch, Race* r) {
  return [ch, r]() -> weft::Task<void> {
    auto v = co_await ch->recv();
    if (!v.ok()) r->error = true;
  };
}

}  // namespace

// --- a task whose awaits complete at once yields after the budget ---------

TEST_CASE("a reader whose socket always has data yields after the budget", "[coop]") {
  FilledSocket sock(kMaxOps * kReadSize);
  Race r;
  SECTION("Executor, one thread") {
    weft::Executor ex;
    race(ex, r, read_op(&*sock.reader, &r));
  }
  SECTION("LocalExecutor") {
    weft::LocalExecutor ex;
    race(ex, r, read_op(&*sock.reader, &r));
  }
  check_yielded_at_budget(r, weft::kDefaultCoopBudget);
}

TEST_CASE("a receiver whose channel is never empty yields after the budget", "[coop]") {
  weft::Channel<int> ch;
  for (int i = 0; i < kMaxOps; ++i) REQUIRE(ch.try_send(i).ok());
  Race r;
  SECTION("Executor, one thread") {
    weft::Executor ex;
    race(ex, r, recv_op(&ch, &r));
  }
  SECTION("LocalExecutor") {
    weft::LocalExecutor ex;
    race(ex, r, recv_op(&ch, &r));
  }
  check_yielded_at_budget(r, weft::kDefaultCoopBudget);
}

// --- budget 0, a custom budget, try_tick and block_on ----------------------

TEST_CASE("budget 0 never yields: the reader does all its reads first", "[coop]") {
  FilledSocket sock(kMaxOps * kReadSize);
  weft::Channel<int> ch;
  for (int i = 0; i < kMaxOps; ++i) REQUIRE(ch.try_send(i).ok());
  const uint64_t yields_before = forced_yields();
  Race reads, recvs;
  SECTION("Executor") {
    weft::Executor ex({.budget = 0});
    race(ex, reads, read_op(&*sock.reader, &reads));
    race(ex, recvs, recv_op(&ch, &recvs));
  }
  SECTION("LocalExecutor") {
    weft::LocalExecutor ex({.budget = 0});
    race(ex, reads, read_op(&*sock.reader, &reads));
    race(ex, recvs, recv_op(&ch, &recvs));
  }
  CHECK_FALSE(reads.error);
  CHECK(reads.ops_when_other_ran == kMaxOps);
  CHECK_FALSE(recvs.error);
  CHECK(recvs.ops_when_other_ran == kMaxOps);
  CHECK(forced_yields() == yields_before);
}

TEST_CASE("a custom budget is respected", "[coop]") {
  constexpr uint32_t kBudget = 16;
  FilledSocket sock(kMaxOps * kReadSize);
  weft::Channel<int> ch;
  for (int i = 0; i < kMaxOps; ++i) REQUIRE(ch.try_send(i).ok());
  Race reads, recvs;
  SECTION("Executor") {
    weft::Executor ex({.budget = kBudget});
    race(ex, reads, read_op(&*sock.reader, &reads));
    race(ex, recvs, recv_op(&ch, &recvs));
  }
  SECTION("LocalExecutor") {
    weft::LocalExecutor ex({.budget = kBudget});
    race(ex, reads, read_op(&*sock.reader, &reads));
    race(ex, recvs, recv_op(&ch, &recvs));
  }
  check_yielded_at_budget(reads, kBudget);
  check_yielded_at_budget(recvs, kBudget);
}

TEST_CASE("try_tick and block_on run with their budget; outside a run it is unlimited",
          "[coop]") {
  CHECK(weft::detail::t_coop.remaining == weft::detail::kCoopUnlimited);

  weft::Executor ex({.budget = 4});
  Race r;
  auto busy = ex.spawn(busy_loop([] { return []() -> weft::Task<void> {
    co_await weft::consume_budget();
  }(); }, &r));
  CHECK(ex.try_tick());  // one run: 4 awaits, then the 5th yields
  CHECK(r.ops == 4);
  CHECK(weft::detail::t_coop.remaining == weft::detail::kCoopUnlimited);
  r.other_ran = true;  // lets the loop end on its next run
  while (!busy.is_finished()) REQUIRE(ex.try_tick());

  const uint64_t before = forced_yields();
  uint32_t first_run_budget = 0;
  weft::block_on([&]() -> weft::Task<void> {
    first_run_budget = weft::detail::t_coop.remaining;
    for (int i = 0; i < 10; ++i) co_await weft::consume_budget();
  }(), {.budget = 4});
  CHECK(first_run_budget == 4);
  CHECK(forced_yields() - before == 2);  // at the 5th and the 10th await
  CHECK(weft::detail::t_coop.remaining == weft::detail::kCoopUnlimited);
}

// --- every leaf awaiter that can complete at once takes part ----------------

TEST_CASE("every budgeted awaiter consumes one unit and yields when none is left", "[coop]") {
  constexpr uint32_t kBudget = 16;
  weft::LocalExecutor ex({.budget = kBudget});
  Race r;
  size_t next = 0;
  int per_op = 1;  // budgeted awaits per turn of the busy loop

  SECTION("consume_budget") {
    race(ex, r, [] { return []() -> weft::Task<void> { co_await weft::consume_budget(); }(); });
  }
  SECTION("Mutex::lock") {
    weft::Mutex m;
    race(ex, r, [&] { return [](weft::Mutex& m) -> weft::Task<void> {
      auto g = co_await m.lock();
    }(m); });
  }
  SECTION("RwLock::read and write") {
    weft::RwLock rw;
    race(ex, r, [&] { return [](weft::RwLock& rw) -> weft::Task<void> {
      { auto g = co_await rw.read(); }
      auto g = co_await rw.write();
    }(rw); });
    per_op = 2;
  }
  SECTION("Semaphore::acquire") {
    weft::Semaphore sem(1);
    race(ex, r, [&] { return [](weft::Semaphore& s) -> weft::Task<void> {
      auto p = co_await s.acquire();
    }(sem); });
  }
  SECTION("Event::wait with a permit") {
    weft::Event ev;
    race(ex, r, [&] { return [](weft::Event& ev) -> weft::Task<void> {
      ev.notify_one();
      co_await ev.wait();
    }(ev); });
  }
  SECTION("WaitGroup::wait at zero") {
    weft::WaitGroup wg;
    race(ex, r, [&] { return [](weft::WaitGroup& wg) -> weft::Task<void> {
      co_await wg.wait();
    }(wg); });
  }
  SECTION("Barrier of one") {
    weft::Barrier b(1);
    race(ex, r, [&] { return [](weft::Barrier& b) -> weft::Task<void> {
      co_await b.arrive_and_wait();
    }(b); });
  }
  SECTION("Channel::send, unbounded") {
    weft::Channel<int> ch;
    race(ex, r, [&] { return [](weft::Channel<int>& ch) -> weft::Task<void> {
      (void)co_await ch.send(1);  // open and unbounded: cannot fail
    }(ch); });
  }
  SECTION("oneshot receive of a sent value") {
    std::vector<weft::OneshotReceiver<int>> rxs;
    for (int i = 0; i < kMaxOps; ++i) {
      auto [tx, rx] = weft::oneshot<int>();
      (void)tx.send(i);
      rxs.push_back(std::move(rx));
    }
    race(ex, r, [&] { return [](weft::OneshotReceiver<int>& rx) -> weft::Task<void> {
      (void)co_await rx;
    }(rxs[next++]); });
  }
  SECTION("JoinHandle of a finished task, and cancel() of one") {
    std::vector<weft::JoinHandle<int>> hs;
    for (int i = 0; i < 2 * kMaxOps; ++i) {
      hs.push_back(ex.spawn([]() -> weft::Task<int> { co_return 1; }()));
    }
    // They run (and finish) before the busy task, which is spawned after.
    race(ex, r, [&] {
      const size_t i = next;
      next += 2;
      return [](weft::JoinHandle<int>& a, weft::JoinHandle<int>& b) -> weft::Task<void> {
        (void)co_await a;
        (void)co_await b.cancel();
      }(hs[i], hs[i + 1]);
    });
    per_op = 2;
  }
  SECTION("sleep_until a passed deadline, and an unarmed Timer") {
    race(ex, r, [] { return []() -> weft::Task<void> {
      co_await weft::sleep_until(weft::Clock::now() - 1ms);
      weft::Timer unarmed;
      co_await unarmed;
    }(); });
    per_op = 2;
  }
  SECTION("stop_requested after the stop") {
    std::stop_source stop;
    stop.request_stop();
    race(ex, r, [&] { return [](std::stop_token t) -> weft::Task<void> {
      co_await weft::stop_requested(std::move(t));
    }(stop.get_token()); });
  }
  SECTION("readable() and writable() of a ready socket") {
    FilledSocket sock(64);
    race(ex, r, [&] { return [](weft::Async<int>& fd, Race* r) -> weft::Task<void> {
      if (!(co_await fd.readable()).ok()) r->error = true;
      if (!(co_await fd.writable()).ok()) r->error = true;
    }(*sock.reader, &r); });
    per_op = 2;
  }
  SECTION("BlockingJob that has finished") {
    std::vector<weft::BlockingJob<int>> jobs;
    for (int i = 0; i < kMaxOps; ++i) jobs.push_back(weft::unblock([] { return 1; }));
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (auto& j : jobs) {
      while (!j.is_ready()) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::yield();
      }
    }
    race(ex, r, [&] { return [](weft::BlockingJob<int>& j) -> weft::Task<void> {
      (void)co_await j;
    }(jobs[next++]); });
  }
  check_yielded_at_budget(r, kBudget, per_op);
}

TEST_CASE("the children of when_all share their parent's budget", "[coop]") {
  constexpr uint32_t kBudget = 16;
  weft::LocalExecutor ex({.budget = kBudget});
  Race r;
  auto child = [](Race* r) -> weft::Task<void> {
    while (!r->other_ran && r->ops < kMaxOps) {
      co_await weft::consume_budget();
      ++r->ops;
    }
  };
  auto busy = ex.spawn([](auto child, Race* r) -> weft::Task<void> {
    co_await weft::when_all(child(r), child(r));
  }(child, &r));
  auto other = ex.spawn(mark_other_ran(&r));
  ex.run([&]() -> weft::Task<void> {
    co_await busy;
    co_await other;
  }());
  // One budget for both children: the second yields at once, then the parent.
  CHECK(r.ops_when_other_ran >= static_cast<int>(kBudget));
  CHECK(r.ops_when_other_ran <= static_cast<int>(kBudget) + 2);
}

// --- nothing lost or done twice when the budget forces yields -------------

TEST_CASE("a byte stream crosses intact while the budget forces yields", "[coop]") {
  constexpr size_t kTotal = 256 * 1024;
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  auto rd = weft::Async<int>::create(std::move(fds[0]));
  auto wr = weft::Async<int>::create(std::move(fds[1]));
  REQUIRE(rd.ok());
  REQUIRE(wr.ok());

  weft::Executor ex({.budget = 8});
  const uint64_t before = forced_yields();
  auto writer = ex.spawn([](weft::Async<int>& fd) -> weft::Task<bool> {
    std::vector<uint8_t> chunk(4096);
    for (size_t off = 0; off < kTotal; off += chunk.size()) {
      fill_pattern(11, off, chunk.data(), chunk.size());
      if (!(co_await fd.write_all(chunk.data(), chunk.size())).ok()) co_return false;
    }
    co_return true;
  }(*wr));
  struct Seen {
    size_t bytes = 0;
    int64_t mismatch = -1;
  };
  auto reader = ex.spawn([](weft::Async<int>& fd) -> weft::Task<Seen> {
    Seen s;
    uint8_t buf[1000];
    while (s.bytes < kTotal) {
      auto n = co_await fd.read(buf, sizeof buf);
      if (!n.ok() || *n == 0) break;
      if (s.mismatch < 0) s.mismatch = first_mismatch(11, s.bytes, buf, *n);
      s.bytes += *n;
    }
    co_return s;
  }(*rd));
  auto [wrote, seen] = ex.run([&]() -> weft::Task<std::pair<bool, Seen>> {
    bool w = co_await writer;
    Seen s = co_await reader;
    co_return std::pair{w, s};
  }());
  CHECK(wrote);
  CHECK(seen.bytes == kTotal);
  CHECK(seen.mismatch == -1);
  CHECK(forced_yields() > before);
}

namespace {
// Producers send (id << 20 | seq); consumers record what they got. Each
// item must arrive exactly once, and each producer's items in order at
// every consumer.
constexpr int kProducers = 2;
constexpr int kItems = 20000;

weft::Task<void> produce(weft::Channel<int>& ch, int id) {
  for (int i = 0; i < kItems; ++i) (void)co_await ch.send(id << 20 | i);  // never closed
}
weft::Task<std::vector<int>> consume(weft::Channel<int>& ch) {
  std::vector<int> got;
  for (;;) {
    auto v = co_await ch.recv();
    if (!v.ok()) co_return got;
    got.push_back(*v);
  }
}
weft::Task<std::vector<std::vector<int>>> channel_traffic(weft::Executor* ex,
                                                          weft::LocalExecutor* lex,
                                                          weft::Channel<int>& ch) {
  auto spawn = [&](auto task) {
    return ex ? ex->spawn(std::move(task)) : lex->spawn(std::move(task));
  };
  auto c1 = spawn(consume(ch));
  auto c2 = spawn(consume(ch));
  std::vector<weft::JoinHandle<void>> ps;
  for (int p = 0; p < kProducers; ++p) ps.push_back(spawn(produce(ch, p)));
  for (auto& p : ps) co_await p;
  ch.close();
  std::vector<std::vector<int>> out;
  out.push_back(co_await c1);
  out.push_back(co_await c2);
  co_return out;
}
void check_each_item_once_in_order(const std::vector<std::vector<int>>& per_consumer) {
  std::vector<int> count(kProducers * kItems, 0);
  for (const auto& got : per_consumer) {
    std::vector<int> last(kProducers, -1);
    for (int v : got) {
      const int p = v >> 20, i = v & ((1 << 20) - 1);
      REQUIRE(p < kProducers);
      REQUIRE(i > last[p]);  // a producer's items in order
      last[p] = i;
      ++count[p * kItems + i];
    }
  }
  for (size_t k = 0; k < count.size(); ++k) {
    INFO("item " << k);
    REQUIRE(count[k] == 1);
  }
}
}  // namespace

TEST_CASE("channel items arrive exactly once while the budget forces yields", "[coop]") {
  weft::Channel<int> ch(8);
  std::vector<std::vector<int>> got;
  SECTION("LocalExecutor, budget 4") {
    weft::LocalExecutor ex({.budget = 4});
    const uint64_t before = forced_yields();
    got = ex.run(channel_traffic(nullptr, &ex, ch));
    CHECK(forced_yields() > before);
  }
  SECTION("Executor with two threads, budget 4 (deferred operations may migrate)") {
    weft::Executor ex({.budget = 4});
    got = weft_test::run_with_helper(ex, channel_traffic(&ex, nullptr, ch));
  }
  check_each_item_once_in_order(got);
}

TEST_CASE("a receive deferred by the budget waits if the channel emptied meanwhile", "[coop]") {
  // Budget 2: A receives two items at once; its third receive yields. B,
  // queued behind A, takes the last item; C yields once, then sends. A's
  // deferred receive, done when A runs again, finds the channel empty and
  // waits; C's send wakes it with C's item.
  weft::LocalExecutor ex({.budget = 2});
  weft::Channel<int> ch;
  for (int i = 0; i < 3; ++i) REQUIRE(ch.try_send(i).ok());
  std::vector<int> a_got;
  int b_got = -1;
  auto a = ex.spawn([](weft::Channel<int>& ch, std::vector<int>* got) -> weft::Task<void> {
    for (int i = 0; i < 3; ++i) got->push_back((co_await ch.recv()).value());
  }(ch, &a_got));
  auto b = ex.spawn([](weft::Channel<int>& ch, int* got) -> weft::Task<void> {
    *got = (co_await ch.recv()).value();
  }(ch, &b_got));
  auto c = ex.spawn([](weft::Channel<int>& ch) -> weft::Task<void> {
    co_await weft::yield_now();
    (void)co_await ch.send(42);  // never closed
  }(ch));
  ex.run([&]() -> weft::Task<void> {
    co_await a;
    co_await b;
    co_await c;
  }());
  CHECK(a_got == std::vector<int>{0, 1, 42});
  CHECK(b_got == 2);
  CHECK(ch.size() == 0);
}

// --- cancelled at a budget yield, a task leaves nothing behind ------------

namespace {
// Runs `victim` on `ex` (budget 2, so its third await yields), then a task
// queued behind it drops the victim's JoinHandle while the victim is queued
// at that yield. Returns the victim's frame destructions. (A victim loops
// at most kMaxOps times: without a yield it ends instead of hanging.)
template <class MakeVictim>
int cancel_at_budget_yield(MakeVictim make_victim) {
  weft::LocalExecutor ex({.budget = 2});
  std::atomic<int> live{0}, destroyed{0};
  std::optional<weft::JoinHandle<void>> victim = ex.spawn(make_victim(&live, &destroyed));
  auto canceller = ex.spawn([](std::optional<weft::JoinHandle<void>>* h) -> weft::Task<void> {
    h->reset();  // the victim is SCHEDULED: it is destroyed when it comes up
    co_return;
  }(&victim));
  int destroyed_after = -1;
  ex.run([&]() -> weft::Task<void> {
    co_await canceller;
    co_await weft::yield_now();  // the executor reaches the victim first
    destroyed_after = destroyed.load();
  }());
  CHECK(live.load() == 0);
  return destroyed_after;
}
}  // namespace

TEST_CASE("cancelling a task at a budget yield destroys it; nothing is lost", "[coop][cancel]") {
  SECTION("a deferred channel receive") {
    weft::Channel<int> ch;
    for (int i = 0; i < 3; ++i) REQUIRE(ch.try_send(i).ok());
    int got = 0;
    CHECK(cancel_at_budget_yield([&](std::atomic<int>* live, std::atomic<int>* d) {
      return [](weft::Channel<int>& ch, int* got, std::atomic<int>* live,
                std::atomic<int>* d) -> weft::Task<void> {
        Counted frame(live, d);
        for (int i = 0; i < kMaxOps; ++i) {
          if (!(co_await ch.recv()).ok()) break;
          ++*got;
        }
      }(ch, &got, live, d);
    }) == 1);
    CHECK(got == 2);
    CHECK(ch.size() == 1);  // the third item was never taken
    auto left = ch.try_recv();
    REQUIRE(left.ok());
    CHECK(*left == 2);
  }
  SECTION("a deferred mutex lock") {
    weft::Mutex m;
    CHECK(cancel_at_budget_yield([&](std::atomic<int>* live, std::atomic<int>* d) {
      return [](weft::Mutex& m, std::atomic<int>* live, std::atomic<int>* d) -> weft::Task<void> {
        Counted frame(live, d);
        for (int i = 0; i < kMaxOps; ++i) {
          auto g = co_await m.lock();
        }
      }(m, live, d);
    }) == 1);
    CHECK_FALSE(m.is_locked());
    CHECK(m.try_lock().has_value());
  }
  SECTION("a socket read about to be made") {
    FilledSocket sock(1000);
    CHECK(cancel_at_budget_yield([&](std::atomic<int>* live, std::atomic<int>* d) {
      return [](weft::Async<int>& fd, std::atomic<int>* live,
                std::atomic<int>* d) -> weft::Task<void> {
        Counted frame(live, d);
        char buf[100];
        for (int i = 0; i < kMaxOps; ++i) {
          if (!(co_await fd.read(buf, sizeof buf)).ok()) break;
        }
      }(*sock.reader, live, d);
    }) == 1);
    CHECK(sock.reader->num_waiters() == 0);
    // Two reads were made; the third was not: 800 bytes are still there.
    uint8_t rest[1000];
    ssize_t n = ::read(sock.reader->fd(), rest, sizeof rest);
    CHECK(n == 800);
    CHECK(first_mismatch(7, 200, rest, n > 0 ? static_cast<size_t>(n) : 0) == -1);
  }
}

TEST_CASE("destroying an executor destroys a task queued at a budget yield", "[coop][cancel]") {
  weft::Channel<int> ch;
  for (int i = 0; i < 2; ++i) REQUIRE(ch.try_send(i).ok());
  std::atomic<int> live{0}, destroyed{0};
  int got = 0;
  {
    weft::LocalExecutor ex({.budget = 1});
    auto h = ex.spawn([](weft::Channel<int>& ch, int* got, std::atomic<int>* live,
                         std::atomic<int>* d) -> weft::Task<void> {
      Counted frame(live, d);
      for (int i = 0; i < kMaxOps; ++i) {
        if (!(co_await ch.recv()).ok()) break;
        ++*got;
      }
    }(ch, &got, &live, &destroyed));
    CHECK(ex.try_tick());  // one receive; the second yields, deferred
    CHECK(got == 1);
    CHECK(destroyed.load() == 0);
    h.detach();
  }
  CHECK(destroyed.load() == 1);
  CHECK(live.load() == 0);
  CHECK(ch.size() == 1);  // the deferred receive never happened
}
