// Parker: blocks one thread until another unparks it.
//
// What it is for: an idle worker sleeps on its own Parker; whoever hands it
// work calls unpark(). Built on a futex, so an unpark that finds no sleeper
// costs one atomic exchange and no system call.
//
// Guarantees: an unpark() before park() is not lost: the next park() returns
// at once (a single permit, as std::thread::park in Rust). park() may also
// return spuriously; callers re-check their condition.
//
// Memory ordering: unpark() releases and park() acquires, so what the
// unparking thread wrote before unpark() is visible after park() returns.
//
// Example:
//   weft::detail::Parker p;
//   std::thread t([&] { ready = true; p.unpark(); });
//   while (!ready) p.park();
#ifndef WEFT_EXECUTOR_PARKER_H_
#define WEFT_EXECUTOR_PARKER_H_

#include <atomic>
#include <cstdint>

namespace weft {
namespace detail {

class Parker {
 public:
  void park() noexcept;
  void unpark() noexcept;

 private:
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kParked = 1;
  static constexpr uint32_t kNotified = 2;
  // kEmpty, kParked (the owner sleeps or is about to) or kNotified (a permit
  // waits). Written by the owner in park() and by any thread in unpark().
  std::atomic<uint32_t> state_{kEmpty};
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_PARKER_H_
