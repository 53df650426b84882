// unblock(f): run a blocking callable on the global blocking pool and await
// its result.
//
// What it is for: calling code that blocks (a synchronous library, a system
// call that may wait on a disk, a long computation) from a task without
// stalling the executor worker that runs the task.
//
// Requires: `f` is callable with no arguments; it may be move-only. It runs
// on a pool thread (weft-blocking-N), so it must not touch state owned by
// the awaiting task's thread without synchronization.
//
// Guarantees: the job is queued at once (several may be started before any
// is awaited); `co_await` gives f's result (decayed to a value) or rethrows
// what f threw. Dropping the returned handle (or cancelling the task whose
// frame holds it) before the job started skips it; the callable and the
// result are destroyed exactly once either way. See blocking_job.h and
// pool.h for the details.
//
// g++ 12 (Debian 12's compiler): a lambda whose captures have destructors,
// written as a temporary *inside* a co_await expression, is destroyed twice
// by g++ 12.2 (a compiler bug in coroutine temporaries; clang 14 is fine).
// So with move-only or owning captures, build the job in its own statement,
// or pass the values as arguments:
//   auto job = weft::unblock([buf = std::move(buf)] { return parse(buf); });
//   auto r = co_await job;                                         // fine
//   auto r = co_await weft::unblock(parse_owned, std::move(buf));  // fine
//   auto r = co_await weft::unblock([buf = std::move(buf)] {...}); // g++ 12: double free
// Captures without destructors ([&], [this], ints, raw pointers) are fine.
//
// Example:
//   std::string body = co_await weft::unblock([&path] { return slurp(path); });
//   auto a = weft::unblock(work_a);        // both run at once
//   auto b = weft::unblock(work_b);
//   co_return (co_await a) + (co_await b);
#ifndef WEFT_BLOCKING_POOL_UNBLOCK_H_
#define WEFT_BLOCKING_POOL_UNBLOCK_H_

#include <functional>
#include <utility>

#include "blocking_pool/blocking_job.h"
#include "blocking_pool/pool.h"

namespace weft {

template <class F>
BlockingJob<detail::JobValue<F>> unblock(F&& f) {
  return BlockingPool::global().spawn(std::forward<F>(f));
}

// Runs `std::invoke(f, args...)` on the pool; `f` and the arguments are
// moved (or copied) into the job and handed to `f` as rvalues.
template <class F, class... Args>
  requires(sizeof...(Args) > 0)
auto unblock(F&& f, Args&&... args) {
  return unblock([f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable {
    return std::invoke(std::move(f), std::move(args)...);
  });
}

}  // namespace weft

#endif  // WEFT_BLOCKING_POOL_UNBLOCK_H_
