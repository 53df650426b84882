#include "executor/idle_poll.h"

#include <atomic>

namespace weft {
namespace detail {
namespace {
// Written once by the reactor's start; read by every task thread.
std::atomic<const IdlePollHooks*> g_hooks{nullptr};

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

void poller_awake() noexcept {
  if (const IdlePollHooks* h = hooks()) h->awake();
}

void poller_parking() noexcept {
  if (const IdlePollHooks* h = hooks()) h->parking();
}

}  // namespace detail
}  // namespace weft
