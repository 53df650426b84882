// AsioWorkers: an asio::io_context run by N std::threads, the peer of
// WeftWorkers.
//
// Requires: construct and destroy on one thread, which is not a worker.
// Guarantees: the constructor returns once every thread is about to call
// run(); a work guard keeps run() from returning while the context is idle;
// the destructor drops the guard, so the threads leave once the queued work
// is done, and joins them.
//
// Example:
//   AsioWorkers pool(2);
//   asio::co_spawn(pool.context(), work(), asio::detached);
#ifndef WEFT_BENCHES_ASIO_WORKERS_H_
#define WEFT_BENCHES_ASIO_WORKERS_H_

#include <asio.hpp>
#include <latch>
#include <optional>
#include <thread>
#include <vector>

namespace weft_bench {

class AsioWorkers {
 public:
  explicit AsioWorkers(int threads) : guard_(asio::make_work_guard(context_)) {
    std::latch started(threads);
    workers_.reserve(threads);
    for (int i = 0; i < threads; ++i) {
      workers_.emplace_back([this, &started] {
        started.count_down();
        context_.run();
      });
    }
    started.wait();
  }
  ~AsioWorkers() {
    guard_.reset();
    for (std::thread& t : workers_) t.join();
  }
  AsioWorkers(const AsioWorkers&) = delete;
  AsioWorkers& operator=(const AsioWorkers&) = delete;

  asio::io_context& context() noexcept { return context_; }

 private:
  // Declared first so it is destroyed last, after the threads are joined.
  asio::io_context context_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::vector<std::thread> workers_;
};

}  // namespace weft_bench

#endif  // WEFT_BENCHES_ASIO_WORKERS_H_
