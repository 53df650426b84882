#include "executor/local_pool.h"

#include <pthread.h>

#include <algorithm>
#include <barrier>
#include <latch>
#include <string>
#include <system_error>
#include <thread>

#include "base/affinity.h"
#include "executor/atomic_waker.h"

namespace weft {
namespace detail {
namespace {

struct WorkerIdentity {
  LocalExecutor* executor = nullptr;
  size_t index = 0;
};
// Set on a pool worker's thread for its whole life.
thread_local WorkerIdentity t_worker;

// The worker's main task waits on this until the pool stops it.
class StopSignal {
 public:
  void stop() noexcept { slot_.close().wake(); }

  struct Awaiter {
    AtomicWaker* slot;
    bool await_ready() const noexcept { return slot->closed(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      return slot->register_waker(current_waker(h));
    }
    void await_resume() const noexcept {}
    ~Awaiter() { slot->withdraw(); }
  };
  Awaiter wait() noexcept { return Awaiter{&slot_}; }

 private:
  AtomicWaker slot_;
};

Task<void> wait_for_stop(StopSignal* stop) { co_await stop->wait(); }

}  // namespace

LocalExecutor* current_pool_executor() noexcept { return t_worker.executor; }

class LocalPoolImpl {
 public:
  explicit LocalPoolImpl(const LocalPoolOptions& options)
      : budget_(options.budget), cpus_(plan_cpus(options)), workers_(worker_count(options)),
        started_(static_cast<std::ptrdiff_t>(workers_.size())),
        stopped_(static_cast<std::ptrdiff_t>(workers_.size())) {
    size_t launched = 0;
    try {
      for (; launched < workers_.size(); ++launched) {
        workers_[launched].thread = std::thread([this, launched] { main(launched); });
      }
    } catch (...) {
      // std::thread failed (EAGAIN): stop the ones that run and pass the
      // error on. The latches count every worker, so count the missing ones.
      for (size_t i = launched; i < workers_.size(); ++i) {
        started_.count_down();
        workers_[i].missing = true;
      }
      started_.wait();
      for (size_t i = launched; i < workers_.size(); ++i) stopped_.arrive_and_drop();
      stop_and_join();
      throw;
    }
    started_.wait();
    for (Worker& w : workers_) {
      if (!w.pin_error.ok()) {
        const std::string message = w.pin_error.ToString();
        stop_and_join();
        throw std::system_error(std::make_error_code(std::errc::invalid_argument), message);
      }
    }
  }

  ~LocalPoolImpl() { stop_and_join(); }

  size_t size() const noexcept { return workers_.size(); }
  LocalExecutor& executor(size_t i) noexcept { return *workers_[i].executor; }
  PinnedLoad* load(size_t i) noexcept { return &workers_[i].load; }

  size_t least_loaded() noexcept {
    // Start the scan at a rotating worker so that ties (an idle pool) spread
    // spawns round-robin instead of piling onto worker 0.
    // relaxed: a counter for spreading; nothing is published through it.
    const size_t start = next_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
    size_t best = start;
    // relaxed: see PinnedLoad.
    size_t best_load = workers_[start].load.count.load(std::memory_order_relaxed);
    for (size_t k = 1; k < workers_.size() && best_load > 0; ++k) {
      const size_t i = (start + k) % workers_.size();
      const size_t l = workers_[i].load.count.load(std::memory_order_relaxed);
      if (l < best_load) {
        best = i;
        best_load = l;
      }
    }
    return best;
  }

 private:
  struct Worker {
    PinnedLoad load;
    std::thread thread;
    LocalExecutor* executor = nullptr;  // set before started_ counts down
    StopSignal stop;
    absl::Status pin_error;  // written by the worker before started_ counts down
    int cpu = -1;
    bool missing = false;  // its thread could not be started
  };

  static std::vector<int> plan_cpus(const LocalPoolOptions& o) {
    if (!o.cpus.empty()) {
      const std::vector<int> allowed = allowed_cpus();
      for (int c : o.cpus) {
        if (!std::binary_search(allowed.begin(), allowed.end(), c)) {
          throw std::invalid_argument("weft: LocalPool: CPU " + std::to_string(c) +
                                      " is not one this process may run on");
        }
      }
      return o.cpus;
    }
    if (!o.pin_to_cpus) return {};
    std::vector<int> allowed = allowed_cpus();
    if (o.threads > allowed.size()) {
      throw std::invalid_argument("weft: LocalPool: pin_to_cpus with " + std::to_string(o.threads) +
                                  " threads, but this process may run on " +
                                  std::to_string(allowed.size()) + " CPUs");
    }
    return allowed;
  }

  size_t worker_count(const LocalPoolOptions& o) const {
    if (o.threads > 0) return o.threads;
    if (!o.cpus.empty()) return o.cpus.size();
    return allowed_cpus().size();
  }

  void main(size_t i) {
    Worker& w = workers_[i];
    const std::string name = "weft-local-" + std::to_string(i);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    if (!cpus_.empty()) {
      w.cpu = cpus_[i % cpus_.size()];
      w.pin_error = pin_current_thread({w.cpu});
    }
    {
      LocalExecutor ex(LocalExecutorOptions{.budget = budget_});
      w.executor = &ex;
      t_worker = WorkerIdentity{&ex, i};
      started_.count_down();
      ex.run(wait_for_stop(&w.stop));
      // Shutdown, phase 1 done for us: we take no more tasks. Tasks of other
      // workers may still spawn onto us until they stop too; ours may still
      // be woken. Destroy nothing before every worker has stopped running
      // tasks, so no running task meets a destroyed executor.
      stopped_.arrive_and_wait();
      // Phase 2: ~LocalExecutor destroys our tasks, here, on our thread.
    }
    t_worker = WorkerIdentity{};
  }

  void stop_and_join() noexcept {
    for (Worker& w : workers_) {
      if (!w.missing) w.stop.stop();
    }
    for (Worker& w : workers_) {
      if (w.thread.joinable()) w.thread.join();
    }
  }

  const uint32_t budget_;
  const std::vector<int> cpus_;
  std::vector<Worker> workers_;
  std::latch started_;
  std::barrier<> stopped_;
  std::atomic<size_t> next_{0};
};

}  // namespace detail

LocalPool::LocalPool(LocalPoolOptions options)
    : impl_(std::make_unique<detail::LocalPoolImpl>(options)) {}
LocalPool::~LocalPool() = default;
size_t LocalPool::size() const noexcept { return impl_->size(); }
size_t LocalPool::pinned_tasks(size_t worker) const noexcept {
  // relaxed: see PinnedLoad.
  return worker < impl_->size() ? impl_->load(worker)->count.load(std::memory_order_relaxed) : 0;
}
std::vector<ExecutorMetrics> LocalPool::metrics() const {
  std::vector<ExecutorMetrics> all;
  all.reserve(impl_->size());
  for (size_t i = 0; i < impl_->size(); ++i) all.push_back(impl_->executor(i).metrics());
  return all;
}
std::vector<TaskDump> LocalPool::dump() const {
  std::vector<TaskDump> all;
  all.reserve(impl_->size());
  for (size_t i = 0; i < impl_->size(); ++i) all.push_back(impl_->executor(i).dump());
  return all;
}
size_t LocalPool::least_loaded() noexcept { return impl_->least_loaded(); }
LocalExecutor& LocalPool::executor(size_t worker) noexcept { return impl_->executor(worker); }
detail::PinnedLoad* LocalPool::load(size_t worker) noexcept { return impl_->load(worker); }

std::optional<size_t> LocalPool::current_worker() noexcept {
  if (!detail::t_worker.executor) return std::nullopt;
  return detail::t_worker.index;
}

}  // namespace weft
