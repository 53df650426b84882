#include "reactor/registration_slab.h"

namespace weft {
namespace detail {

RegistrationSlab::RegistrationSlab() : chunks_(new std::atomic<ScheduledIo*>[kMaxChunks]) {
  for (uint32_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

ScheduledIo* RegistrationSlab::allocate(uint32_t* index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.empty()) {
    if (num_chunks_ == kMaxChunks) return nullptr;
    // Leaked on purpose: records must outlive every in-flight event.
    auto* chunk = new ScheduledIo[kChunk];
    // release: pairs with the acquire in get().
    chunks_[num_chunks_].store(chunk, std::memory_order_release);
    for (uint32_t i = kChunk; i-- > 0;) free_.push_back(num_chunks_ * kChunk + i);
    ++num_chunks_;
  }
  *index = free_.back();
  free_.pop_back();
  return get(*index);
}

void RegistrationSlab::release(uint32_t index) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(index);
}

}  // namespace detail
}  // namespace weft
