#include "examples/connections.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>

#include "base/deadline.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

// Defaults a careful server would start from: nginx closes idle keep-alive
// connections after 75 s and waits 60 s for a request head; Debian's default
// soft fd limit is 1024, and 1000 connections leave room for the process's
// own fds (the listener, the reactor's, stdio).
ABSL_FLAG(int, max_connections, 1000,
          "server: connections open at once; at the limit the server stops accepting "
          "(clients wait in the listen backlog) until one ends");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(60),
          "server: close a connection that sends nothing, or takes nothing we send, for this "
          "long (e.g. 500ms, 2m; \"inf\": never)");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(5),
          "server: on SIGINT/SIGTERM, stop accepting and give open connections this long to "
          "finish before closing them");

namespace examples {

absl::StatusOr<ServerLimits> server_limits_from_flags() {
  const int max = absl::GetFlag(FLAGS_max_connections);
  const absl::Duration idle = absl::GetFlag(FLAGS_idle_timeout);
  const absl::Duration drain = absl::GetFlag(FLAGS_drain_timeout);
  if (max < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--max_connections: ", max, " is not >= 1"));
  }
  if (idle <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--idle_timeout: ", absl::FormatDuration(idle), " is not > 0 (\"inf\" means never)"));
  }
  if (drain < absl::ZeroDuration() || drain == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--drain_timeout: ", absl::FormatDuration(drain), " is not a finite duration >= 0"));
  }
  // ToChronoNanoseconds saturates: "inf" (or anything past ~292 years)
  // becomes nanoseconds::max(), kNoIdleLimit.
  return ServerLimits{static_cast<size_t>(max), absl::ToChronoNanoseconds(idle),
                      absl::ToChronoNanoseconds(drain)};
}

namespace {
weft::Task<void> wait_for(weft::WaitGroup* wg) { co_await wg->wait(); }
}  // namespace

absl::StatusOr<weft::Signals> stop_signals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // see connections.h
  return weft::Signals::create({SIGINT, SIGTERM});
}

std::optional<ServerStartup> server_startup(int* exit_code) {
  absl::StatusOr<weft::Signals> signals = stop_signals();
  if (!signals.ok()) {
    std::fprintf(stderr, "%s\n", signals.status().ToString().c_str());
    *exit_code = 1;
    return std::nullopt;
  }
  absl::StatusOr<ServerLimits> limits = server_limits_from_flags();
  if (!limits.ok()) {
    std::fprintf(stderr, "%s\n", std::string(limits.status().message()).c_str());
    *exit_code = 2;
    return std::nullopt;
  }
  return ServerStartup{*std::move(signals), *limits};
}

weft::Task<void> await_stop_signal(weft::Signals& signals) {
  const int sig = co_await signals.next();
  std::printf("got %s, shutting down\n", ::strsignal(sig));
  std::fflush(stdout);
}

weft::Task<void> stop_on_signal(weft::Signals& signals, weft::JoinHandle<void>& acceptor,
                                Connections& conns, std::chrono::nanoseconds drain_timeout) {
  co_await await_stop_signal(signals);
  co_await acceptor.cancel();  // no new connections
  co_await conns.drain(drain_timeout);
}

weft::Task<void> Connections::track(weft::SemaphoreGuard slot, weft::Task<void> conn) {
  open_.add(1);  // now, not when the task first runs: drain() must see it
  return run(std::move(slot), std::move(conn));
}

weft::Task<void> Connections::run(weft::SemaphoreGuard slot, weft::Task<void> conn) {
  {
    weft::SemaphoreGuard held = std::move(slot);
    (void)co_await weft::cancel_on_stop(cancel_.get_token(), std::move(conn));
  }  // the slot goes back before the count drops: after done(), drain() may return
  open_.done();  // and *this may be gone: touch nothing after this line
}

weft::Task<void> Connections::drain(std::chrono::nanoseconds grace) {
  absl::Status all_ended = co_await weft::timeout(grace, wait_for(&open_));
  if (all_ended.ok()) co_return;
  cancel_.request_stop();  // what is still open is cancelled...
  co_await open_.wait();   // ...and gone once this returns
}

weft::Clock::time_point idle_deadline(std::chrono::nanoseconds idle) {
  if (idle == kNoIdleLimit) return weft::Clock::time_point::max();
  return weft::detail::deadline_after(idle);
}

weft::Task<absl::StatusOr<size_t>> read_by(weft::TcpStream& s, void* buf, size_t len,
                                           weft::Clock::time_point deadline) {
  if (deadline == weft::Clock::time_point::max()) co_return co_await s.read(buf, len);
  auto r = co_await weft::timeout_at(deadline, s.read(buf, len).task());
  if (!r.ok()) co_return r.status();
  co_return *std::move(r);
}

weft::Task<absl::Status> write_all_by(weft::TcpStream& s, const void* buf, size_t len,
                                      weft::Clock::time_point deadline) {
  if (deadline == weft::Clock::time_point::max()) co_return co_await s.write_all(buf, len);
  auto r = co_await weft::timeout_at(deadline, s.write_all(buf, len));
  if (!r.ok()) co_return r.status();
  co_return *std::move(r);
}

namespace {
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             weft::Clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::optional<weft::Task<void>> IdleWatch::start(const weft::TcpStream& s) {
  if (idle_ == kNoIdleLimit) return std::nullopt;
  const int fd = ::dup(s.fd());
  if (fd < 0) {
    std::perror("IdleWatch: dup");  // no watchdog: the connection has no idle limit
    return std::nullopt;
  }
  state_ = std::make_shared<State>();
  restart();
  return watchdog(state_, fd);
}

void IdleWatch::restart() noexcept {
  if (!state_) return;
  // relaxed: see State. Saturates like deadline_after: idle is < ~292 years.
  state_->deadline_ns.store(now_ns() + idle_.count(), std::memory_order_relaxed);
}

bool IdleWatch::expired() const noexcept {
  // acquire: pairs with the watchdog's release store before its shutdown.
  return state_ && state_->expired.load(std::memory_order_acquire);
}

weft::Task<void> IdleWatch::stop() {
  if (dog_) {
    co_await dog_->cancel();
    dog_.reset();
  }
}

weft::Task<void> IdleWatch::watchdog(std::shared_ptr<State> state, int fd) {
  struct CloseDup {  // also when cancelled at the sleep
    int fd;
    ~CloseDup() { ::close(fd); }
  } dup{fd};
  for (;;) {
    // relaxed: see State.
    const int64_t deadline = state->deadline_ns.load(std::memory_order_relaxed);
    if (now_ns() >= deadline) break;
    co_await weft::sleep_until(weft::Clock::time_point(std::chrono::nanoseconds(deadline)));
  }
  // release: pairs with expired()'s acquire, after the read the shutdown ends.
  state->expired.store(true, std::memory_order_release);
  ::shutdown(dup.fd, SHUT_RDWR);  // a dup shares the socket: the connection's read ends
}

}  // namespace examples
