#include "executor/watchdog.h"

#include <atomic>
#include <mutex>

namespace weft {
namespace detail {
namespace {
// Held while a tick runs and while the list changes: unwatch() therefore
// returns only when no tick is calling the object. One lock per tick and per
// executor's life: never on a task's path.
std::mutex g_mu;
Watched* g_head = nullptr;  // guarded by g_mu
// Set once, at the reactor library's static initialisation.
std::atomic<void (*)()> g_starter{nullptr};
}  // namespace

void watch(Watched* w) noexcept {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    w->prev_ = nullptr;
    w->next_ = g_head;
    if (g_head) g_head->prev_ = w;
    g_head = w;
  }
  // acquire: pairs with the release in set_watchdog_starter().
  if (auto start = g_starter.load(std::memory_order_acquire)) start();
}

void set_watchdog_starter(void (*start)()) noexcept {
  g_starter.store(start, std::memory_order_release);
}

void unwatch(Watched* w) noexcept {
  std::lock_guard<std::mutex> lock(g_mu);
  if (w->prev_) w->prev_->next_ = w->next_; else g_head = w->next_;
  if (w->next_) w->next_->prev_ = w->prev_;
  w->prev_ = w->next_ = nullptr;
}

void watchdog_tick() noexcept {
  std::lock_guard<std::mutex> lock(g_mu);
  for (Watched* w = g_head; w; w = w->next_) w->on_watchdog_tick();
}

}  // namespace detail
}  // namespace weft
