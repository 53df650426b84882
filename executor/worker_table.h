// WorkerTable: the WorkerSlots of one Executor, as many as threads ever
// were inside its run() at once, readable by any thread without a lock.
//
// What it is for: thieves, the watchdog and parking workers walk every slot
// on their paths; joining threads append slots. The table has no fixed
// limit: any number of threads may be inside run() (WEFT_THREADS allows
// 1024, and a machine may have more CPUs than any fixed table).
//
// Requires: one writer at a time (the Executor appends under its slots
// lock); slots are appended, never removed, and live as long as the table's
// owner.
// Guarantees: view() gives a prefix of the table, every slot in it fully
// constructed. Reading costs two acquire loads per view, then plain loads.
//
// Memory ordering: append() stores the array pointer (when it grows) and
// the new entry before the release store of size_; view() loads size_ with
// acquire first, then the array pointer, so the array it sees is the one
// that held the entry (or a later copy, which holds every earlier entry).
// A grown-out array is kept until the table goes, as a reader may still be
// walking it.
//
// Example:
//   WorkerTable::View v = table.view();
//   for (uint32_t i = 0; i < v.size; ++i) v[i]->queue.steal_into(...);
#ifndef WEFT_EXECUTOR_WORKER_TABLE_H_
#define WEFT_EXECUTOR_WORKER_TABLE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace weft {
namespace detail {

struct WorkerSlot;

class WorkerTable {
 public:
  // Slots before the first growth: more than most machines have CPUs, so
  // an executor that spans the machine rarely copies.
  static constexpr uint32_t kInitialCapacity = 64;

  WorkerTable() : capacity_(kInitialCapacity) {
    arrays_.emplace_back(new WorkerSlot*[kInitialCapacity]);
    // relaxed: the table is not yet shared.
    array_.store(arrays_.back().get(), std::memory_order_relaxed);
  }
  WorkerTable(const WorkerTable&) = delete;
  WorkerTable& operator=(const WorkerTable&) = delete;

  struct View {
    WorkerSlot* const* slots;
    uint32_t size;
    WorkerSlot* operator[](uint32_t i) const noexcept { return slots[i]; }
  };

  // Any thread.
  View view() const noexcept {
    // acquire: pairs with append()'s release store of size_, after which
    // the entries below it and the array holding them are visible.
    const uint32_t n = size_.load(std::memory_order_acquire);
    // acquire: pairs with append()'s release store of array_ (already
    // ordered by size_ above; the acquire keeps that true on its own).
    return View{array_.load(std::memory_order_acquire), n};
  }

  // The writer only (under the owner's lock). May throw std::bad_alloc when
  // it has to grow; the table is then unchanged.
  void append(WorkerSlot* slot) {
    // relaxed: only the writer stores size_ and array_.
    const uint32_t n = size_.load(std::memory_order_relaxed);
    WorkerSlot** array = array_.load(std::memory_order_relaxed);
    if (n == capacity_) {
      arrays_.reserve(arrays_.size() + 1);  // so the push_back below cannot throw
      std::unique_ptr<WorkerSlot*[]> grown(new WorkerSlot*[2 * capacity_]);
      for (uint32_t i = 0; i < n; ++i) grown[i] = array[i];
      array = grown.get();
      arrays_.push_back(std::move(grown));
      capacity_ *= 2;
      // release: pairs with view()'s acquire load of array_.
      array_.store(array, std::memory_order_release);
    }
    array[n] = slot;  // beyond every reader's size until the store below
    // release: pairs with view()'s acquire load of size_.
    size_.store(n + 1, std::memory_order_release);
  }

 private:
  std::atomic<WorkerSlot**> array_{nullptr};  // the newest array
  std::atomic<uint32_t> size_{0};
  // The writer's alone:
  uint32_t capacity_;
  std::vector<std::unique_ptr<WorkerSlot*[]>> arrays_;  // every array so far, newest last
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_WORKER_TABLE_H_
