// when_any: await several tasks; the first to finish wins, the others are
// cancelled.
//
// What it is for: races and alternatives: the first reply of several
// replicas, a result or a stop request (see stop.h), a result or a
// deadline (once the reactor has timers).
//
// Requires: at least one task; the tasks are fresh (never awaited or
// spawned). Whatever they reference must outlive the await.
//
// Guarantees:
// - The children run interleaved on the awaiting task's thread, as in
//   when_all (nothing is spawned; block_on, LocalExecutor and Executor).
//   They start in argument order, so if the first completes without
//   suspending, the others never start.
// - The first child to finish wins: when_any returns its result (or
//   rethrows its exception). Every other child is cancelled and its frame
//   destroyed, on this thread, before when_any returns, so nothing a loser
//   holds (a lock, a channel slot, a reference into the caller's frame)
//   outlives the call.
// - Variadic: a std::variant whose index() is the winner's position
//   (std::monostate for a Task<void>, std::reference_wrapper for Task<T&>).
//   Over a range: AnyResult<T>{index, value}, or the index alone for
//   Task<void>s.
// - If the awaiting task is cancelled, so are all the children.
// - The children share the awaiting task's cooperative budget
//   (executor/coop.h): a child that yields for it lets the next one start.
//
// Example:
//   weft::Task<std::string> ask(Replica& r);
//   auto first = co_await weft::when_any(ask(a), ask(b));   // variant
//   std::string reply = first.index() == 0 ? std::get<0>(first) : std::get<1>(first);
#ifndef WEFT_SYNC_WHEN_ANY_H_
#define WEFT_SYNC_WHEN_ANY_H_

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "executor/join_group.h"
#include "executor/task.h"
#include "sync/awaitable.h"
#include "sync/when_all.h"

namespace weft {

// The winner of a when_any over a range: its position and its result.
template <class T>
struct AnyResult {
  size_t index;
  T value;
};

namespace detail {

// What a child's result becomes in a variant.
template <class T>
using AnyOf = std::conditional_t<
    std::is_void_v<T>, std::monostate,
    std::conditional_t<std::is_reference_v<T>, std::reference_wrapper<std::remove_reference_t<T>>,
                       T>>;

template <class... Ts>
Task<std::variant<AnyOf<Ts>...>> when_any_variadic(Task<Ts>... tasks) {
  JoinGroup group(JoinGroup::Mode::kAny, sizeof...(Ts));
  (group.add(std::move(tasks)), ...);
  co_await group.run();
  if (group.error()) std::rethrow_exception(group.error());
  const size_t winner = group.decisive();
  std::optional<std::variant<AnyOf<Ts>...>> out;
  [&]<size_t... I>(std::index_sequence<I...>) {
    ((I == winner ? (out.emplace(std::in_place_index<I>, group.template take<Ts>(I)), 0) : 0),
     ...);
  }(std::index_sequence_for<Ts...>{});
  co_return std::move(*out);
}

template <class T>
Task<std::conditional_t<std::is_void_v<T>, size_t, AnyResult<T>>> when_any_vector(
    std::vector<Task<T>> tasks) {
  static_assert(!std::is_reference_v<T>, "weft::when_any over a range of Task<T&> is not supported");
  if (tasks.empty()) throw std::invalid_argument("weft: when_any needs at least one task");
  JoinGroup group(JoinGroup::Mode::kAny, tasks.size());
  for (Task<T>& t : tasks) group.add(std::move(t));
  co_await group.run();
  if (group.error()) std::rethrow_exception(group.error());
  const size_t winner = group.decisive();
  if constexpr (std::is_void_v<T>) {
    co_return winner;
  } else {
    co_return AnyResult<T>{winner, group.template take<T>(winner)};
  }
}

}  // namespace detail

// The first of the tasks to finish; the others are cancelled.
template <class... Ts>
  requires(sizeof...(Ts) >= 1)
Task<std::variant<detail::AnyOf<Ts>...>> when_any(Task<Ts>... tasks) {
  return detail::when_any_variadic(std::move(tasks)...);
}

// The first task of a range (taken out of it now) to finish; the others
// are cancelled. Throws std::invalid_argument (when awaited) for an empty
// range.
template <std::ranges::input_range R>
  requires detail::IsTask<std::ranges::range_value_t<R>>::value
auto when_any(R&& tasks) {
  using T = typename std::ranges::range_value_t<R>::value_type;
  std::vector<Task<T>> owned;
  for (auto&& t : tasks) owned.push_back(std::move(t));
  return detail::when_any_vector<T>(std::move(owned));
}

// when_any over any awaitables: the select form. sync/awaitable.h says how
// each argument is held. The result is a std::variant whose index() is the
// branch that won; every other branch is cancelled before it returns.
// Whether a losing branch leaves its operation undone depends on the
// operation (README "Cancel safety"): a channel receive that loses takes no
// item, a lock that loses is not held, a JoinHandle passed by reference that
// loses keeps its task running.
//
// Example:
//   auto r = co_await weft::when_any(jobs.recv(), weft::sleep_for(1s), stop.wait());
//   switch (r.index()) {
//     case 0: handle(std::get<0>(std::move(r))); break;   // absl::StatusOr<Job>
//     case 1: idle(); break;                              // std::monostate
//     case 2: co_return;
//   }
template <class... As>
class [[nodiscard]] WhenAny {
 public:
  using Result = std::variant<detail::AnyOf<typename detail::AwaitArg<As>::Result>...>;
  explicit WhenAny(As&&... as) : args_(std::forward<As>(as)...) {}
  WhenAny(const WhenAny&) = delete;
  WhenAny& operator=(const WhenAny&) = delete;
  // Rvalue only: `co_await weft::when_any(...)` in one expression.
  detail::OwningTaskAwaiter<Result> operator co_await() && {
    return detail::OwningTaskAwaiter<Result>(std::apply(
        [](auto&... a) { return detail::when_any_variadic(a.child()...); }, args_));
  }

 private:
  std::tuple<detail::AwaitArg<As>...> args_;
};

template <class... As>
  requires detail::GenericAwaitables<As...>
WhenAny<As...> when_any(As&&... as) {
  return WhenAny<As...>(std::forward<As>(as)...);
}

}  // namespace weft

#endif  // WEFT_SYNC_WHEN_ANY_H_
