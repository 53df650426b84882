// RegistrationSlab: stable storage for ScheduledIo records.
//
// Records are allocated in chunks that are never freed while the process
// runs, and reused through a free list. A record's address therefore stays
// valid forever, so an epoll event or an awaiter that outlives the use of a
// record can still lock it and compare generations (see scheduled_io.h).
// Memory is bounded by the peak number of registrations at once.
#ifndef WEFT_REACTOR_REGISTRATION_SLAB_H_
#define WEFT_REACTOR_REGISTRATION_SLAB_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "reactor/scheduled_io.h"

namespace weft {
namespace detail {

class RegistrationSlab {
 public:
  // 64 records a chunk: small enough that an idle program wastes little,
  // large enough that chunk allocation is rare.
  static constexpr uint32_t kChunk = 64;
  // Upper bound on chunks (and so on registrations at once: 64 * 65536 =
  // 4 Mi, far above any fd limit); the chunk table is fixed so the driver
  // can index it without a lock.
  static constexpr uint32_t kMaxChunks = 65536;

  RegistrationSlab();

  // A free record and its index; null when the table is exhausted.
  ScheduledIo* allocate(uint32_t* index);
  void release(uint32_t index) noexcept;
  // Any thread; index must have been handed out by allocate() at some time.
  ScheduledIo* get(uint32_t index) const noexcept {
    // acquire: pairs with the release store in allocate() that published
    // the chunk.
    return &chunks_[index / kChunk].load(std::memory_order_acquire)[index % kChunk];
  }

 private:
  std::mutex mu_;
  std::vector<uint32_t> free_;  // guarded by mu_
  uint32_t num_chunks_ = 0;     // guarded by mu_
  // Written once per chunk under mu_, read lock-free by get().
  std::unique_ptr<std::atomic<ScheduledIo*>[]> chunks_;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_REGISTRATION_SLAB_H_
