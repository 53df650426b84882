// when_all: await several tasks at once; all results, or the first error.
//
// What it is for: running independent pieces of work concurrently inside one
// task, e.g. `auto [a, b] = co_await weft::when_all(fetch(x), fetch(y));`.
//
// Requires: the tasks are fresh (never awaited or spawned). Whatever they
// reference must outlive the await, as for any co_await.
//
// Guarantees:
// - The children run concurrently, interleaved on the awaiting task's
//   thread: each one runs until it suspends, and its own waker brings it
//   back. Nothing is spawned, so this works under block_on, LocalExecutor
//   and Executor alike. (For parallelism across threads, spawn tasks on an
//   Executor and await their JoinHandles.)
// - Variadic: a std::tuple of the results in argument order (std::monostate
//   for a Task<void>, a reference for a Task<T&>). Over a range: a
//   std::vector<T> in the range's order, or Task<void> for Task<void>s.
// - The first child to throw cancels the others: their frames are destroyed
//   (on this thread) before when_all rethrows that exception.
// - If the awaiting task is cancelled, so are all the children, likewise.
// - One allocation for the bookkeeping (a vector) besides the frames.
// - The children run within the awaiting task's runs and share its
//   cooperative budget (executor/coop.h), as the futures of tokio's join! do.
//
// Example:
//   weft::Task<int> fetch(int key);
//   weft::Task<void> both() {
//     auto [a, b] = co_await weft::when_all(fetch(1), fetch(2));
//     std::vector<weft::Task<int>> many;
//     for (int k = 0; k < 10; ++k) many.push_back(fetch(k));
//     std::vector<int> all = co_await weft::when_all(std::move(many));
//   }
#ifndef WEFT_SYNC_WHEN_ALL_H_
#define WEFT_SYNC_WHEN_ALL_H_

#include <cstddef>
#include <exception>
#include <functional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "executor/join_group.h"
#include "executor/task.h"
#include "sync/awaitable.h"

namespace weft {

namespace detail {

template <class... Ts>
Task<std::tuple<ResultOf<Ts>...>> when_all_variadic(Task<Ts>... tasks) {
  JoinGroup group(JoinGroup::Mode::kAll, sizeof...(Ts));
  (group.add(std::move(tasks)), ...);
  co_await group.run();
  if (group.error()) std::rethrow_exception(group.error());
  co_return [&]<size_t... I>(std::index_sequence<I...>) {
    // Braced initialization: the children are taken in order.
    return std::tuple<ResultOf<Ts>...>{group.template take<Ts>(I)...};
  }(std::index_sequence_for<Ts...>{});
}

template <class T>
Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> when_all_vector(
    std::vector<Task<T>> tasks) {
  static_assert(!std::is_reference_v<T>, "weft::when_all over a range of Task<T&> is not supported");
  JoinGroup group(JoinGroup::Mode::kAll, tasks.size());
  for (Task<T>& t : tasks) group.add(std::move(t));
  co_await group.run();
  if (group.error()) std::rethrow_exception(group.error());
  if constexpr (!std::is_void_v<T>) {
    std::vector<T> out;
    out.reserve(tasks.size());
    for (size_t i = 0; i < tasks.size(); ++i) out.push_back(group.template take<T>(i));
    co_return out;
  }
}

}  // namespace detail

// Awaits every task; a tuple of their results, in argument order.
template <class... Ts>
Task<std::tuple<detail::ResultOf<Ts>...>> when_all(Task<Ts>... tasks) {
  return detail::when_all_variadic(std::move(tasks)...);
}

// Awaits every task of a range (taken out of it now); a vector of the
// results in the range's order, or nothing for Task<void>.
template <std::ranges::input_range R>
  requires detail::IsTask<std::ranges::range_value_t<R>>::value
auto when_all(R&& tasks) {
  using T = typename std::ranges::range_value_t<R>::value_type;
  std::vector<Task<T>> owned;
  for (auto&& t : tasks) owned.push_back(std::move(t));
  return detail::when_all_vector<T>(std::move(owned));
}

// when_all over any awaitables (sync/awaitable.h says how each argument
// is held): `auto [msg, guard] = co_await weft::when_all(ch.recv(), m.lock());`
// A tuple of their results in argument order (std::monostate for void).
// The first to throw cancels the rest, as for tasks.
template <class... As>
class [[nodiscard]] WhenAll {
 public:
  using Result = std::tuple<detail::ResultOf<typename detail::AwaitArg<As>::Result>...>;
  explicit WhenAll(As&&... as) : args_(std::forward<As>(as)...) {}
  WhenAll(const WhenAll&) = delete;
  WhenAll& operator=(const WhenAll&) = delete;
  // Rvalue only: `co_await weft::when_all(...)` in one expression.
  detail::OwningTaskAwaiter<Result> operator co_await() && {
    return detail::OwningTaskAwaiter<Result>(std::apply(
        [](auto&... a) { return detail::when_all_variadic(a.child()...); }, args_));
  }

 private:
  std::tuple<detail::AwaitArg<As>...> args_;
};

template <class... As>
  requires detail::GenericAwaitables<As...>
WhenAll<As...> when_all(As&&... as) {
  return WhenAll<As...>(std::forward<As>(as)...);
}

}  // namespace weft

#endif  // WEFT_SYNC_WHEN_ALL_H_
