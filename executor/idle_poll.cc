#include "executor/idle_poll.h"

#include <atomic>

namespace weft {
namespace detail {
namespace {
// Written once by the reactor's start; read by every task thread.
std::atomic<const IdlePollHooks*> g_hooks{nullptr};
// Task threads awake now. Counted here, not in the reactor, so that threads
// that started before the reactor existed are counted too (a thread that
// woke uncounted and parked counted drove a reactor-side count negative,
// and the driver then never watched I/O: found by the echo example).
// Changed with seq_cst: the reactor pairs it with its own flag (Dekker).
std::atomic<int> g_awake{0};

const IdlePollHooks* hooks() noexcept {
  // acquire: pairs with the release in set_idle_poll_hooks(), so the
  // reactor is fully built before its hooks run.
  return g_hooks.load(std::memory_order_acquire);
}
}  // namespace

void set_idle_poll_hooks(const IdlePollHooks* h) noexcept {
  g_hooks.store(h, std::memory_order_release);
}

int idle_poll() noexcept {
  const IdlePollHooks* h = hooks();
  return h ? h->poll() : 0;
}

void poller_awake() noexcept { g_awake.fetch_add(1, std::memory_order_seq_cst); }

void poller_parking() noexcept {
  if (g_awake.fetch_sub(1, std::memory_order_seq_cst) == 1) {
    if (const IdlePollHooks* h = hooks()) h->last_parked();
  }
}

int awake_pollers() noexcept { return g_awake.load(std::memory_order_seq_cst); }

}  // namespace detail
}  // namespace weft
