// The TimerEntry cache: see timer_entry.h, "3. Recycling".
#include "reactor/timer_entry.h"

#include <atomic>
#include <cstddef>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_TIMER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_TIMER_ASAN 1
#endif
#endif

#ifdef WEFT_TIMER_ASAN
// Declared by hand: g++ ships the runtime but not its interface headers.
extern "C" void __asan_poison_memory_region(void const volatile* addr, size_t size);
extern "C" void __asan_unpoison_memory_region(void const volatile* addr, size_t size);
#endif

namespace weft {
namespace detail {
namespace {

// Entries a thread keeps for itself: enough for a worker's sleeps in
// flight at once in the common case (a few KB), small enough that a thread
// that stops using timers strands little.
constexpr uint32_t kLocalCacheMax = 256;
// Entries kept on the shared stack: the timers of a large burst
// (timer_cancel: the driver frees a million, a worker creates them) are
// reused, and past this (~6 MB) memory goes back to malloc.
constexpr size_t kSharedCacheMax = size_t{1} << 16;
// Entries a thread takes from its bulk list before it subtracts them from
// g_shared_size in one go: keeps that shared counter off the per-timer path.
constexpr uint32_t kAccountBatch = 64;

// The storage of a dead entry. Only `next` is touched while cached (under
// ASan the rest is poisoned).
struct FreeSlot {
  FreeSlot* next;
};
static_assert(sizeof(TimerEntry) >= sizeof(FreeSlot));
static_assert(alignof(TimerEntry) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

void poison(FreeSlot* s) noexcept {
#ifdef WEFT_TIMER_ASAN
  __asan_poison_memory_region(reinterpret_cast<char*>(s) + sizeof(FreeSlot),
                              sizeof(TimerEntry) - sizeof(FreeSlot));
#else
  static_cast<void>(s);
#endif
}
void unpoison(void* p) noexcept {
#ifdef WEFT_TIMER_ASAN
  __asan_unpoison_memory_region(p, sizeof(TimerEntry));
#else
  static_cast<void>(p);
#endif
}

// The shared stack. Pushed by any thread (one entry at a time), taken whole
// by exchange: no pop of a single entry, so no ABA.
std::atomic<FreeSlot*> g_shared{nullptr};
// Entries on the shared stack or in a thread's bulk list (taken from it,
// not yet used), or about to be pushed: at least their number. Incremented
// before a push; decremented in batches as entries leave a bulk list, so
// nobody walks a list to count it (that walk was a cache miss per entry).
std::atomic<size_t> g_shared_size{0};
// Entries ever allocated (tests).
std::atomic<size_t> g_heap_allocations{0};
// Fired entries whose wake is not settled (TimerEntry::unsettled).
// seq_cst: the driver reads it, then the awake task-thread count, then the
// timer stacks (time_control.cc, "settled"); a settle is followed by the
// settling thread's park (seq_cst, task_threads.cc), so a driver that sees
// zero here and no thread awake knows the woken tasks ran and parked.
std::atomic<int> g_unsettled{0};

// The calling thread's cache. Trivially destructible, so it can be used
// while the thread exits (after LocalCacheFlush ran: `closed`).
struct LocalCache {
  FreeSlot* head;  // cached entries, up to kLocalCacheMax
  uint32_t size;
  FreeSlot* bulk;  // taken from the shared stack, any number
  uint32_t bulk_taken;  // popped from bulk, not yet subtracted from g_shared_size
  bool flush_registered;
  bool closed;  // the thread is exiting: no caching here any more
};
constinit thread_local LocalCache t_cache{nullptr, 0, nullptr, 0, false, false};

void free_storage(FreeSlot* s) noexcept {
  unpoison(s);
  ::operator delete(static_cast<void*>(s));
}

// Pushes `s`, already counted in g_shared_size, on the shared stack.
void push_counted(FreeSlot* s) noexcept {
  // Poisoned before it is published: once pushed, another thread may take
  // it and unpoison it.
  poison(s);
  // relaxed load: the CAS re-reads.
  FreeSlot* head = g_shared.load(std::memory_order_relaxed);
  do {
    s->next = head;
    // release: publishes s->next and the entry's destruction to the
    // acquire exchange in take_shared().
  } while (!g_shared.compare_exchange_weak(head, s, std::memory_order_release,
                                           std::memory_order_relaxed));
}

// Gives `s` to the shared stack, or back to malloc past the cap.
void push_shared(FreeSlot* s) noexcept {
  // relaxed: a bound, not a synchronizer; the CAS in push_counted publishes.
  if (g_shared_size.fetch_add(1, std::memory_order_relaxed) >= kSharedCacheMax) {
    g_shared_size.fetch_sub(1, std::memory_order_relaxed);
    free_storage(s);
    return;
  }
  push_counted(s);
}

// Subtracts the entries this thread took from its bulk list.
void account_bulk(LocalCache& c) noexcept {
  // relaxed: the bound only.
  g_shared_size.fetch_sub(c.bulk_taken, std::memory_order_relaxed);
  c.bulk_taken = 0;
}

// Takes the whole shared stack (null if empty).
FreeSlot* take_shared() noexcept {
  // relaxed load first: most calls find it empty, and a plain load does not
  // take the line away from the pushers.
  if (g_shared.load(std::memory_order_relaxed) == nullptr) return nullptr;
  // acquire: pairs with push_counted's release CAS (every entry in the
  // list, and its link, is ours to read). Still counted in g_shared_size:
  // each is subtracted as it leaves the bulk list (account_bulk).
  return g_shared.exchange(nullptr, std::memory_order_acquire);
}

// Runs when a thread that cached entries exits: hands them on.
struct LocalCacheFlush {
  bool armed = false;
  ~LocalCacheFlush() {
    LocalCache& c = t_cache;
    c.closed = true;
    account_bulk(c);
    // Bulk entries are still counted: back as they are.
    for (FreeSlot* l = c.bulk; l;) {
      FreeSlot* next = l->next;
      push_counted(l);
      l = next;
    }
    for (FreeSlot* l = c.head; l;) {
      FreeSlot* next = l->next;
      push_shared(l);
      l = next;
    }
    c.head = c.bulk = nullptr;
    c.size = 0;
  }
};
thread_local LocalCacheFlush t_flush;

// Makes sure this thread's caches are handed on when it exits.
void register_flush(LocalCache& c) noexcept {
  if (!c.flush_registered) {
    c.flush_registered = true;
    // The first use constructs this thread's flusher, which runs at the
    // thread's exit.
    t_flush.armed = true;
  }
}

}  // namespace

TimerEntry* TimerEntry::create() {
  LocalCache& c = t_cache;
  FreeSlot* s = c.head;
  if (s) {
    c.head = s->next;
    --c.size;
  } else {
    if (!c.bulk && !c.closed) {
      c.bulk = take_shared();
      if (c.bulk) register_flush(c);
    }
    s = c.bulk;
    if (s) {
      c.bulk = s->next;
      if (++c.bulk_taken == kAccountBatch || !c.bulk) account_bulk(c);
    }
  }
  void* p;
  if (s) {
    p = s;
    unpoison(p);
  } else {
    p = ::operator new(sizeof(TimerEntry));
    // relaxed: a statistic.
    g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  // Safety: p is storage for a TimerEntry (fresh, or a recycled entry's,
  // destroyed in recycle()) that nobody else references.
  return new (p) TimerEntry();
}

void TimerEntry::mark_unsettled() noexcept {
  // seq_cst: see g_unsettled. The count goes up before the flag, so it
  // never drops below zero.
  g_unsettled.fetch_add(1, std::memory_order_seq_cst);
  // relaxed: published by the driver's release CAS to kFired (or read back
  // by the driver itself when the CAS fails).
  unsettled.store(true, std::memory_order_relaxed);
}

void TimerEntry::settle_slow() noexcept {
  // acq_rel: exactly one of the racing settlers wins.
  if (unsettled.exchange(false, std::memory_order_acq_rel)) {
    g_unsettled.fetch_sub(1, std::memory_order_seq_cst);  // see g_unsettled
  }
}

int TimerEntry::unsettled_wakes() noexcept {
  return g_unsettled.load(std::memory_order_seq_cst);  // see g_unsettled
}

void TimerEntry::recycle(TimerEntry* e) noexcept {
  // The last reference is gone: nobody else reads e from here on. A wake
  // nobody settled (a Timer fired and dropped unawaited) settles here.
  e->settle();
  e->~TimerEntry();
  // Safety: the storage is ours; a FreeSlot is trivial, so writing one
  // there starts its lifetime.
  auto* s = new (static_cast<void*>(e)) FreeSlot{nullptr};
  LocalCache& c = t_cache;
  if (!c.closed && c.size < kLocalCacheMax) {
    register_flush(c);
    s->next = c.head;
    c.head = s;
    ++c.size;
    poison(s);
    return;
  }
  push_shared(s);
}

size_t TimerEntry::heap_allocations() noexcept {
  // relaxed: a statistic.
  return g_heap_allocations.load(std::memory_order_relaxed);
}

size_t TimerEntry::cached_here() noexcept {
  size_t n = t_cache.size;
  for (FreeSlot* s = t_cache.bulk; s; s = s->next) ++n;
  return n;
}

}  // namespace detail
}  // namespace weft
