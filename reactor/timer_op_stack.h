// TimerOpStack: the lock-free stack on which any thread hands timer
// operations (inserts, cancels) to the reactor's driver thread, which takes
// the whole stack at once. Intrusive: `Link` names the node's link field.
//
// What it is for: reactor.h's inserts_ and cancels_ (timer_entry.h, "The
// two references"). Kept in a header of its own, on executor/atomic.h's
// seam, so that the Relacy model (executor/model/timer_ops_model.cc) checks
// this very code.
//
// Operations:
//   - push(n): any thread; a Treiber push (seq_cst CAS, see below).
//   - unpush(n): a thread that holds n (the one that pushed it, or one it
//     handed n to, e.g. under a lock, maybe before the push): takes n back
//     if, and only if, n is still the top of the stack. Then the
//     taker never saw n, and never will.
//   - take(): the driver; the whole stack, newest first, by one exchange.
//
// Why unpush has no ABA. A node is pushed once in its life (an entry is
// pushed on each stack at most once before it is recycled, and it cannot be
// recycled while the unpusher holds it). So once the head is not n any
// more (another push above it, or a take), it never becomes n again; a CAS
// that finds the head equal to n proves nothing happened to the stack since
// the unpusher saw n on top, and n's link (which only n's pusher writes,
// before its push; read after an acquire load that saw n on top) is still
// the node below it. Reading the link before seeing n on top would race
// with a push on another thread, and could read a link from before it.
//
// Memory ordering, pair by pair:
//   - push's CAS (seq_cst, so release) -> take's exchange (acquire): the
//     taker reads every node's link and fields written before its push.
//     Every write of the head is a read-modify-write (push, unpush, take),
//     so a pushed node's release heads a release sequence that the taker's
//     acquire joins, whichever later CAS wrote the value it reads.
//   - unpush's first load (acquire) -> push's CAS (release): the link of
//     the node found on top.
//   - unpush's CAS is acq_rel: acquire joins the release of whoever pushed
//     the node it puts back on top, and release hands that on to the next
//     taker (the release sequence already does; TSan wants it explicit).
//   - seq_cst on push and on empty(): the Dekker pair with the driver's
//     sleep_until_ms_ (reactor.cc, submit_timer and driver_main): a pusher
//     stores its node then reads the driver's target; the driver stores its
//     target then reads the stacks. One of them sees the other.
#ifndef WEFT_REACTOR_TIMER_OP_STACK_H_
#define WEFT_REACTOR_TIMER_OP_STACK_H_

#include <atomic>

#include "executor/atomic.h"

namespace weft {
namespace detail {

// `Link`: a pointer to Node's link member, a Node* (or, in the model, a
// type that converts to and from one and tracks its accesses).
template <class Node, auto Link>
class TimerOpStack {
 public:
  void push(Node* n) noexcept {
    // relaxed load: the CAS re-reads.
    Node* head = head_.load(std::memory_order_relaxed);
    do {
      n->*Link = head;
      // seq_cst: release pairs with take()'s acquire exchange; seq_cst for
      // the Dekker pair with the driver (header comment).
    } while (!head_.compare_exchange_weak(head, n, std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
  }

  // True if n was still on top and is now off the stack (the taker never
  // saw it); false if it was taken, or lies under a later push, or is not
  // pushed yet. The caller holds n (it cannot be recycled meanwhile), but
  // need not be the thread that pushed it.
  bool unpush(Node* n) noexcept {
    // acquire: pairs with the release CAS of n's push (or a later RMW in
    // its release sequence). Seeing n on top, we see n's link as its pusher
    // wrote it: the canceller of a Timer is not always the thread that
    // armed it (set_at publishes the entry under the Timer's lock, and
    // pushes it after releasing that lock).
    if (head_.load(std::memory_order_acquire) != n) return false;
    Node* const below = n->*Link;
    Node* expected = n;
    // acq_rel: acquire pairs with the push (release) of `below`, which we
    // make the head again; release hands it on to take()'s acquire (the
    // release sequence already does; TSan wants it explicit). Strong: a
    // spurious failure would cost a cancel operation. If the head is still
    // n, nothing moved since our load (n is never pushed twice), so
    // `below` is still the node under it.
    return head_.compare_exchange_strong(expected, below, std::memory_order_acq_rel,
                                         std::memory_order_relaxed);
  }

  // The whole stack, newest first (null if empty). Driver thread.
  Node* take() noexcept {
    // acquire: pairs with push()'s release CAS (and unpush's).
    return head_.exchange(nullptr, std::memory_order_acquire);
  }

  // seq_cst: the driver's half of the Dekker pair (header comment).
  bool empty() const noexcept { return head_.load(std::memory_order_seq_cst) == nullptr; }

 private:
  atomic<Node*> head_{nullptr};
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_TIMER_OP_STACK_H_
