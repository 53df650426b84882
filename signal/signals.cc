#include "signal/signals.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "sync/event.h"

namespace weft {
namespace {

// What the signal handler touches. Static storage, constant-initialised: it
// exists before any handler can run and is never destroyed.
struct Slot {
  // Arrivals while weft's handler was installed. Incremented by the handler
  // (release: pairs with the acquire loads in Signals::try_next, so a task
  // that sees the new count sees the handler's earlier effects).
  std::atomic<uint64_t> arrivals{0};
  // The disposition to chain to. Written under Registry::mu_ before weft's
  // handler is installed (release); read by the handler (acquire). A record
  // is never freed or changed once published, so a handler still running
  // an older one on another thread reads valid memory.
  std::atomic<const struct sigaction*> prev{nullptr};
};
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "the signal handler needs a lock-free counter");
static_assert(std::atomic<int>::is_always_lock_free);
static_assert(std::atomic<const struct sigaction*>::is_always_lock_free);

constinit Slot g_slots[NSIG];
// The self-pipe's write end (non-blocking), -1 until the registry started.
// Stored once (release) before any handler is installed; the handler loads
// it (acquire).
constinit std::atomic<int> g_wake_fd{-1};

void on_signal(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (sig > 0 && sig < NSIG) {
    Slot& slot = g_slots[sig];
    // release: pairs with try_next's acquire load (see Slot::arrivals).
    slot.arrivals.fetch_add(1, std::memory_order_release);
    // acquire: pairs with the release store in Registry::start().
    const int fd = g_wake_fd.load(std::memory_order_acquire);
    if (fd >= 0) {
      const char byte = 0;
      // A full pipe already holds a wake-up for the dispatcher: nothing lost.
      [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);
    }
    // acquire: pairs with the release store in Registry::install().
    const struct sigaction* prev = slot.prev.load(std::memory_order_acquire);
    if (prev != nullptr && prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
      if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, info, context);
      } else {
        prev->sa_handler(sig);
      }
    }
  }
  errno = saved_errno;
}

bool is_ours(const struct sigaction& act) {
  return (act.sa_flags & SA_SIGINFO) != 0 && act.sa_sigaction == &on_signal;
}

bool same_action(const struct sigaction& a, const struct sigaction& b) {
  return a.sa_handler == b.sa_handler && a.sa_flags == b.sa_flags &&
         std::memcmp(&a.sa_mask, &b.sa_mask, sizeof a.sa_mask) == 0;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "weft: %s\n", what);
  std::abort();
}

// The process-wide bookkeeping: who listens to what, the self-pipe and the
// dispatcher thread. Created on first use and never destroyed (the
// dispatcher runs until the process exits), like the reactor.
class Registry {
 public:
  static Registry& get() {
    static Registry* r = new Registry;  // never destroyed: see above
    return *r;
  }

  // Starts listening to `sigs` (checked already); all or nothing.
  absl::Status add(std::span<const int> sigs) {
    std::lock_guard<std::mutex> l(mu_);
    if (absl::Status st = start(); !st.ok()) return st;
    for (size_t i = 0; i < sigs.size(); ++i) {
      if (absl::Status st = add_one(sigs[i]); !st.ok()) {
        for (size_t j = 0; j < i; ++j) remove_one(sigs[j]);
        poke_if_mask_changed();
        return st;
      }
    }
    poke_if_mask_changed();
    return absl::OkStatus();
  }

  void remove(int sig) {
    std::lock_guard<std::mutex> l(mu_);
    remove_one(sig);
    poke_if_mask_changed();
  }

  absl::Status add_permanent_hook(int sig, void (*hook)()) {
    std::lock_guard<std::mutex> l(mu_);
    if (absl::Status st = start(); !st.ok()) return st;
    Control& c = ctl_[sig];
    if (!c.permanent) {
      if (absl::Status st = add_one(sig); !st.ok()) return st;
      c.permanent = true;  // the listener add_one counted is never removed
    }
    hooks_.push_back(hook);
    poke_if_mask_changed();
    return absl::OkStatus();
  }

  Event& event() noexcept { return event_; }

 private:
  struct Control {
    int listeners = 0;
    // weft's handler was installed and has not been restored away (it may
    // lie under a handler someone installed later).
    bool installed = false;
    bool permanent = false;  // a process-lifetime listener (hooks)
    // Every disposition weft has chained to, kept alive for the process
    // (see Slot::prev); reused when the same one comes back.
    std::vector<std::unique_ptr<struct sigaction>> prevs;
  };

  absl::Status start() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (started_) return absl::OkStatus();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return errno_status(errno, "signals: pipe2");
    // Only the write end is non-blocking (the ends are separate open file
    // descriptions): the handler never blocks, the dispatcher sleeps in read.
    if (::fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) {
      const int err = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      return errno_status(err, "signals: fcntl");
    }
    // release: pairs with the handler's acquire load.
    g_wake_fd.store(fds[1], std::memory_order_release);
    std::thread(&Registry::dispatch, this, fds[0]).detach();
    started_ = true;
    return absl::OkStatus();
  }

  absl::Status add_one(int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Control& c = ctl_[sig];
    if (c.listeners > 0 || c.installed) {
      ++c.listeners;
      return absl::OkStatus();
    }
    struct sigaction cur;
    if (::sigaction(sig, nullptr, &cur) != 0) {
      return errno_status(errno, absl::StrCat("signals: sigaction(", sig, ")"));
    }
    const struct sigaction* rec = nullptr;
    for (const auto& p : c.prevs) {
      if (same_action(*p, cur)) rec = p.get();
    }
    if (rec == nullptr) {
      c.prevs.push_back(std::make_unique<struct sigaction>(cur));
      rec = c.prevs.back().get();
    }
    // release: pairs with the handler's acquire load; published before the
    // handler that reads it is installed.
    g_slots[sig].prev.store(rec, std::memory_order_release);
    struct sigaction ours {};
    ours.sa_sigaction = &on_signal;
    ours.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigfillset(&ours.sa_mask);
    if (::sigaction(sig, &ours, nullptr) != 0) {
      return errno_status(errno, absl::StrCat("signals: sigaction(", sig, ")"));
    }
    c.installed = true;
    c.listeners = 1;
    mask_changed_ = true;
    return absl::OkStatus();
  }

  void remove_one(int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Control& c = ctl_[sig];
    if (c.listeners <= 0) fail("Signals: internal: listener count underflow");
    if (--c.listeners > 0 || c.permanent || !c.installed) return;
    struct sigaction cur;
    if (::sigaction(sig, nullptr, &cur) != 0 || !is_ours(cur)) return;  // covered: stay
    // acquire: our own earlier release store (same thread holds mu_).
    const struct sigaction* prev = g_slots[sig].prev.load(std::memory_order_acquire);
    if (prev != nullptr && ::sigaction(sig, prev, nullptr) == 0) {
      c.installed = false;
      mask_changed_ = true;
    }
  }

  // Wakes the dispatcher to take the new set of weft's signals into its
  // mask (see dispatch()).
  void poke_if_mask_changed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!mask_changed_) return;
    const char byte = 0;
    // Full pipe: the dispatcher has a wake-up coming already. relaxed: the
    // fd was stored by start() under mu_, which this thread holds.
    [[maybe_unused]] ssize_t n = ::write(g_wake_fd.load(std::memory_order_relaxed), &byte, 1);
  }

  // The "weft-signals" thread: turns bytes on the self-pipe into wake-ups.
  //
  // Its signal mask blocks every signal except those weft's handler is
  // installed for. So a program that blocked a signal in its other threads
  // (as signalfd users do) still gets it, here; and a thread that sleeps in
  // poll(2) is a good place for a handler to run (ThreadSanitizer runs
  // handlers at once only in calls it intercepts as blocking, such as poll;
  // one for a thread parked in a raw futex waits until that thread wakes).
  void dispatch(int read_fd) {
    sigset_t mask;
    sigfillset(&mask);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);  // until the first update
    pthread_setname_np(pthread_self(), "weft-signals");
    char buf[256];
    std::vector<void (*)()> hooks;
    for (;;) {
      // poll, then read: ThreadSanitizer runs a handler at once in a thread
      // blocked in poll (an interceptor it marks as blocking), but g++ 12's
      // TSan defers one that arrives in read(2) until the thread's next
      // intercepted call, which here would never come.
      pollfd pfd{read_fd, POLLIN, 0};
      if (::poll(&pfd, 1, -1) < 0) {
        if (errno == EINTR) continue;
        fail("Signals: poll on the self-pipe failed");
      }
      const ssize_t n = ::read(read_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("Signals: the self-pipe failed");
      event_.notify_all();
      bool update_mask = false;
      {
        std::lock_guard<std::mutex> l(mu_);
        hooks = hooks_;
        if (mask_changed_) {
          update_mask = true;
          mask_changed_ = false;
          sigfillset(&mask);
          for (int sig = 1; sig < NSIG; ++sig) {
            if (ctl_[sig].installed) sigdelset(&mask, sig);
          }
        }
      }
      if (update_mask) pthread_sigmask(SIG_SETMASK, &mask, nullptr);
      for (auto* h : hooks) h();  // outside the lock (STYLE.md habit 6)
    }
  }

  std::mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  Control ctl_[NSIG] ABSL_GUARDED_BY(mu_);
  std::vector<void (*)()> hooks_ ABSL_GUARDED_BY(mu_);
  // The set of installed handlers changed since the dispatcher last set its
  // mask.
  bool mask_changed_ ABSL_GUARDED_BY(mu_) = false;
  Event event_;  // notify_all after every byte read: "look at the counters again"
};

}  // namespace

namespace detail {

absl::Status check_signal(int sig) {
  if (sig < 1 || sig > SIGRTMAX || sig >= NSIG) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: Signals: ", sig, " is not a signal number (1..", SIGRTMAX, ")"));
  }
  switch (sig) {
    case SIGKILL:
    case SIGSTOP:
      return absl::InvalidArgumentError(absl::StrCat(
          "weft: Signals: SIG", sigabbrev_np(sig), " (", sig, ") cannot be caught"));
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
      return absl::InvalidArgumentError(absl::StrCat(
          "weft: Signals: SIG", sigabbrev_np(sig), " (", sig,
          ") reports a fault; a handler that returns re-runs the faulting instruction"));
    default:
      break;
  }
  if (sig > SIGSYS && sig < SIGRTMIN) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: Signals: signal ", sig, " is reserved by the C library"));
  }
  return absl::OkStatus();
}

absl::Status add_permanent_signal_hook(int sig, void (*hook)()) {
  if (absl::Status st = check_signal(sig); !st.ok()) return st;
  return Registry::get().add_permanent_hook(sig, hook);
}

uint64_t signal_arrivals(int sig) noexcept {
  if (sig < 1 || sig >= NSIG) return 0;
  // acquire: pairs with the handler's release increment.
  return g_slots[sig].arrivals.load(std::memory_order_acquire);
}

}  // namespace detail

absl::StatusOr<Signals> Signals::create(std::span<const int> signals) {
  if (signals.empty()) return absl::InvalidArgumentError("weft: Signals: the set is empty");
  std::vector<int> sigs(signals.begin(), signals.end());
  for (int s : sigs) {
    if (absl::Status st = detail::check_signal(s); !st.ok()) return st;
  }
  std::sort(sigs.begin(), sigs.end());
  sigs.erase(std::unique(sigs.begin(), sigs.end()), sigs.end());
  if (absl::Status st = Registry::get().add(sigs); !st.ok()) return st;
  std::vector<Watched> watched;
  watched.reserve(sigs.size());
  // Counted from here: an arrival after this load is reported.
  for (int s : sigs) watched.push_back({s, detail::signal_arrivals(s)});
  return Signals(std::move(watched));
}

Signals::Signals(Signals&& o) noexcept
    : watched_(std::exchange(o.watched_, {})), cursor_(std::exchange(o.cursor_, 0)) {}

Signals& Signals::operator=(Signals&& o) noexcept {
  if (this != &o) {
    release();
    watched_ = std::exchange(o.watched_, {});
    cursor_ = std::exchange(o.cursor_, 0);
  }
  return *this;
}

Signals::~Signals() { release(); }

void Signals::release() noexcept {
  for (const Watched& w : watched_) Registry::get().remove(w.sig);
  watched_.clear();
}

bool Signals::contains(int sig) const noexcept {
  return std::any_of(watched_.begin(), watched_.end(), [&](const Watched& w) { return w.sig == sig; });
}

std::optional<int> Signals::try_next() {
  const size_t n = watched_.size();
  for (size_t i = 0; i < n; ++i) {
    Watched& w = watched_[(cursor_ + i) % n];
    const uint64_t now = detail::signal_arrivals(w.sig);
    if (now != w.seen) {
      w.seen = now;  // coalesces every arrival up to now into this report
      cursor_ = (cursor_ + i + 1) % n;
      return w.sig;
    }
  }
  return std::nullopt;
}

Task<int> Signals::next() {
  if (watched_.empty()) fail("Signals::next() on a moved-from Signals");
  Event& event = Registry::get().event();
  for (;;) {
    // The awaiter is made before the counters are read: a notify_all after
    // the read (the dispatcher saw a later arrival) completes it.
    auto changed = event.wait();
    if (std::optional<int> sig = try_next()) co_return *sig;
    co_await changed;
  }
}

}  // namespace weft
