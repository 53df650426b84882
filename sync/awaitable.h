// Awaitables as combinator arguments: how when_any, when_all and timeout
// take anything that can be awaited (a channel operation, a lock, a timer, a
// JoinHandle, fd readiness, a Task), not only Task<T>.
//
// What it is for: each argument becomes a child task of the combinator's
// JoinGroup (executor/join_group.h) that awaits it; the combinator then
// works as it does for tasks. Nothing is spawned.
//
// How an argument is held (decided by its type and value category):
// - An rvalue that can be moved (sleep_for(..), ch.recv(), ch.send(v),
//   std::move(handle), a Task): moved into the child's frame when the
//   combinator is awaited. A loser's frame, and with it the operation
//   (its queue entry, timer, reservation), is destroyed before the
//   combinator returns.
// - An rvalue that cannot be moved (m.lock(), sem.acquire(), ev.wait()):
//   awaited where it is, by reference. It is a temporary of the full
//   expression `co_await weft::when_any(...)`, so it lives through the await
//   and a loser's registration is withdrawn when that expression ends (its
//   destructor hands on whatever it was granted: waiter.h). Await the
//   combinator in the same expression that makes such an operation.
// - An lvalue with operator co_await (a JoinHandle, a Timer, a
//   OneshotReceiver, a Task&): awaited by reference; every await makes a
//   fresh awaiter in the child's frame, so a loser leaves the object as it
//   was (a losing JoinHandle keeps its task running and can be awaited
//   again).
// - An lvalue that is itself an awaiter (a named `auto op = ch.recv()`): not
//   accepted (compile-time error): a losing awaiter would stay registered in
//   an object the caller still holds. Pass the operation as an rvalue.
//
// The combinators return an immovable awaitable whose operator co_await is
// rvalue-only: write `co_await weft::when_any(a, b)`, the safe form; no
// lambda coroutine is needed (and none trips g++ 12's double destruction of
// capturing lambda temporaries inside co_await).
#ifndef WEFT_SYNC_AWAITABLE_H_
#define WEFT_SYNC_AWAITABLE_H_

#include <concepts>
#include <coroutine>
#include <memory>
#include <type_traits>
#include <utility>

#include "executor/task.h"

namespace weft {
namespace detail {

template <class T>
struct IsTask : std::false_type {};
template <class T>
struct IsTask<Task<T>> : std::true_type {};

template <class A>
concept HasMemberCoAwait = requires(A&& a) { std::forward<A>(a).operator co_await(); };
template <class A>
concept HasFreeCoAwait = requires(A&& a) { operator co_await(std::forward<A>(a)); };
template <class A>
concept IsAwaiter = requires(std::remove_reference_t<A>& a) {
  a.await_ready();
  a.await_resume();
};

// The awaiter `co_await std::forward<A>(a)` uses (for its result type).
template <class A>
decltype(auto) awaiter_of(A&& a) {
  if constexpr (HasMemberCoAwait<A>) {
    return std::forward<A>(a).operator co_await();
  } else if constexpr (HasFreeCoAwait<A>) {
    return operator co_await(std::forward<A>(a));
  } else {
    return std::forward<A>(a);
  }
}

template <class A>
concept Awaitable = HasMemberCoAwait<A> || HasFreeCoAwait<A> || IsAwaiter<A>;

// What `co_await std::forward<A>(a)` gives.
template <class A>
using AwaitResult = decltype(awaiter_of(std::declval<A>()).await_resume());

// The child task of an argument awaited by reference (X is T& or T&&).
template <class R, class X>
Task<R> await_ref(X x) {
  if constexpr (std::is_void_v<R>) {
    co_await static_cast<X>(x);
  } else {
    co_return co_await static_cast<X>(x);
  }
}
// The child task of an argument moved into it: the frame owns it, so a
// loser's operation goes with its frame.
template <class R, class T>
Task<R> await_owned(T x) {
  if constexpr (std::is_void_v<R>) {
    co_await std::move(x);
  } else {
    co_return co_await std::move(x);
  }
}

// One argument of a combinator, `A` as deduced by a forwarding reference.
template <class A>
class AwaitArg {
  using T = std::remove_reference_t<A>;
  static constexpr bool kLvalue = std::is_lvalue_reference_v<A>;
  static constexpr bool kOwned = !kLvalue && std::is_move_constructible_v<T>;
  using Fwd = std::conditional_t<kLvalue, T&, T&&>;
  static_assert(!(kLvalue && !HasMemberCoAwait<T&> && !HasFreeCoAwait<T&>),
                "weft: pass an awaiter to when_any / when_all / timeout as an rvalue "
                "(co_await weft::when_any(ch.recv(), ...)), not as a named object: one that lost "
                "would stay registered in an object you still hold");

 public:
  using Result = AwaitResult<Fwd>;

  explicit AwaitArg(A&& a) : held_(hold(std::forward<A>(a))) {}
  AwaitArg(const AwaitArg&) = delete;
  AwaitArg& operator=(const AwaitArg&) = delete;

  // The child task that awaits the argument. Call once.
  Task<Result> child() {
    if constexpr (kOwned && IsTask<T>::value) {
      return std::move(held_);  // a Task is a child as it is
    } else if constexpr (kOwned) {
      return await_owned<Result, T>(std::move(held_));
    } else {
      return await_ref<Result, Fwd>(static_cast<Fwd>(*held_));
    }
  }

 private:
  using Held = std::conditional_t<kOwned, T, T*>;
  static Held hold(A&& a) {
    if constexpr (kOwned) {
      return Held(std::move(a));
    } else {
      return std::addressof(a);
    }
  }
  Held held_;
};

// Awaits a Task it owns: what a combinator's operator co_await returns.
template <class R>
class [[nodiscard]] OwningTaskAwaiter {
 public:
  explicit OwningTaskAwaiter(Task<R> t) : task_(std::move(t)), inner_(task_.operator co_await()) {}
  OwningTaskAwaiter(const OwningTaskAwaiter&) = delete;
  OwningTaskAwaiter& operator=(const OwningTaskAwaiter&) = delete;
  bool await_ready() { return inner_.await_ready(); }
  template <WeftPromise P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    inner_.await_suspend(h);
  }
  R await_resume() { return inner_.await_resume(); }

 private:
  Task<R> task_;
  typename Task<R>::Awaiter inner_;
};

// Whether a combinator call should take the generic (awaitable) path: some
// argument is not a Task rvalue (those have their Task overloads).
template <class... As>
concept GenericAwaitables =
    (sizeof...(As) >= 1) && (Awaitable<As> && ...) &&
    !((IsTask<std::remove_cvref_t<As>>::value && !std::is_lvalue_reference_v<As>) && ...);

}  // namespace detail
}  // namespace weft

#endif  // WEFT_SYNC_AWAITABLE_H_
