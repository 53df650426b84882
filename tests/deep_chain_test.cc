// A million nested awaits (Task<T> awaiting Task<T> ...): cancelled while
// the leaf is suspended, completed, and thrown through, each in constant
// stack on the thread's default stack (issue #9, item 4).
//
// Destruction order is the one plain recursion would give: the leaf's
// frame first, then each parent, up to the root, so a child's destructors
// may still use what its parent owns. Each frame checks that in its
// destructor.
#include <catch2/catch.hpp>

#include <optional>
#include <stdexcept>

#include "executor/block_on.h"
#include "executor/local_executor.h"
#include "executor/task.h"
#include "executor/yield.h"
#include "test_util.h"

namespace {

// One chain's bookkeeping, on the test's stack (single thread).
struct Chain {
  long reached_leaf = 0;  // 1 once the leaf ran
  long live = 0;          // frames not yet destroyed
  long next_destroyed = 0;  // the depth whose frame must be destroyed next
  long out_of_order = 0;    // frames destroyed at any other point
};

// Lives in every frame: counts it, and checks the destruction order.
class FrameMark {
 public:
  FrameMark(Chain* c, long depth) : c_(c), depth_(depth) { ++c_->live; }
  FrameMark(const FrameMark&) = delete;
  ~FrameMark() {
    if (depth_ != c_->next_destroyed) ++c_->out_of_order;
    c_->next_destroyed = depth_ - 1;
    --c_->live;
  }

 private:
  Chain* c_;
  long depth_;
};

// Depth `d` of a chain that ends `n` levels deeper in a leaf that waits on
// `gate` (or throws, or returns).
enum class Leaf { kWait, kThrow, kReturn };

weft::Task<long> nest(Chain* c, long d, long n, Leaf leaf, weft_test::Gate* gate) {
  FrameMark mark(c, d);
  if (d == n) {
    c->reached_leaf = 1;
    if (leaf == Leaf::kThrow) throw std::runtime_error("leaf failed");
    if (leaf == Leaf::kWait) co_await *gate;
    co_return 0;
  }
  co_return 1 + co_await nest(c, d + 1, n, leaf, gate);
}

// Big enough that recursion overflows the default 8 MiB stack in every
// build mode (a destroyed frame costs well over 8 bytes of stack).
constexpr long kDepth = 1'000'000;

}  // namespace

TEST_CASE("a million-deep chain with a suspended leaf is cancelled by dropping its handle",
          "[task][cancel]") {
  Chain c;
  c.next_destroyed = kDepth;
  weft_test::Gate gate;  // never opened
  weft::LocalExecutor ex;
  ex.run([&]() -> weft::Task<void> {
    {
      auto h = ex.spawn(nest(&c, 0, kDepth, Leaf::kWait, &gate));
      while (gate.waiting() == 0) co_await weft::yield_now();
      REQUIRE(c.reached_leaf == 1);
      REQUIRE(c.live == kDepth + 1);
    }  // dropped: the chain is destroyed on this thread
    for (int i = 0; i < 100 && c.live != 0; ++i) co_await weft::yield_now();
  }());
  CHECK(c.live == 0);
  CHECK(c.out_of_order == 0);
  CHECK(c.next_destroyed == -1);  // the root (depth 0) went last
}

TEST_CASE("a million-deep suspended chain is destroyed with its executor", "[task][cancel]") {
  Chain c;
  c.next_destroyed = kDepth;
  weft_test::Gate gate;
  {
    weft::LocalExecutor ex;
    auto h = ex.spawn(nest(&c, 0, kDepth, Leaf::kWait, &gate));
    ex.run([&]() -> weft::Task<void> {
      while (gate.waiting() == 0) co_await weft::yield_now();
    }());
    CHECK(c.live == kDepth + 1);
    h.detach();
  }  // the executor's destructor destroys the suspended chain
  CHECK(c.live == 0);
  CHECK(c.out_of_order == 0);
}

TEST_CASE("a million-deep chain completes, and its result reaches the root", "[task]") {
  Chain c;
  c.next_destroyed = kDepth;
  weft::LocalExecutor ex;
  long v = ex.run(nest(&c, 0, kDepth, Leaf::kReturn, nullptr));
  CHECK(v == kDepth);
  CHECK(c.live == 0);
  CHECK(c.out_of_order == 0);
}

TEST_CASE("a million-deep chain whose leaf throws delivers the exception to the root",
          "[task]") {
  Chain c;
  c.next_destroyed = kDepth;
  weft::LocalExecutor ex;
  CHECK_THROWS_WITH(ex.run(nest(&c, 0, kDepth, Leaf::kThrow, nullptr)), "leaf failed");
  CHECK(c.live == 0);
  CHECK(c.out_of_order == 0);
}

namespace {

weft::Task<void> wait_on(weft_test::Gate* gate, long* destroyed, long order) {
  struct Mark {
    long* destroyed;
    long order;
    ~Mark() { *destroyed = *destroyed * 10 + order; }
  } mark{destroyed, order};
  co_await *gate;
}

// Awaits a Task it does not own.
weft::Task<void> await_borrowed(weft::Task<void>& t, long* destroyed) {
  struct Mark {
    long* destroyed;
    ~Mark() { *destroyed = *destroyed * 10 + 2; }
  } mark{destroyed};
  co_await t;
}

}  // namespace

TEST_CASE("a cancelled chain whose leaf Task is owned further up is destroyed once",
          "[task][cancel]") {
  // root owns `leaf` and awaits await_borrowed(leaf), which awaits it: the
  // walk destroys the leaf before its awaiter, and root's `leaf` frees it.
  weft_test::Gate gate;
  long destroyed = 0;  // the order of destruction, one digit per frame
  bool root_gone = false;
  {
    weft::LocalExecutor ex;
    auto h = ex.spawn([](weft_test::Gate* g, long* d, bool* gone) -> weft::Task<void> {
      struct Mark {
        bool* gone;
        ~Mark() { *gone = true; }
      } mark{gone};
      weft::Task<void> leaf = wait_on(g, d, 1);
      co_await await_borrowed(leaf, d);
    }(&gate, &destroyed, &root_gone));
    ex.run([&]() -> weft::Task<void> {
      while (gate.waiting() == 0) co_await weft::yield_now();
    }());
    // Dropping h cancels the task; the executor destroys its frames.
  }
  CHECK(destroyed == 12);  // the leaf, then the frame that awaited it
  CHECK(root_gone);
}

namespace {
// Owns (in a temporary) the Task of await_borrowed, which awaits `t`.
weft::Task<void> borrow_below(weft::Task<void>& t, long* destroyed) {
  co_await await_borrowed(t, destroyed);
}
}  // namespace

TEST_CASE("awaiting a Task whose frame a cancelled chain took fails with a message",
          "[task][cancel][misuse]") {
  // The leaf Task outlives the chain that awaited it (the test owns it);
  // cancelling the chain destroyed its frame (the walk through
  // borrow_below's Task reached it). Awaiting it again is the "already
  // awaited" mistake, reported as such; dropping it then frees its memory.
  weft_test::Gate gate;
  long destroyed = 0;
  weft::Task<void> leaf = wait_on(&gate, &destroyed, 1);
  {
    weft::LocalExecutor ex;
    auto h = ex.spawn(borrow_below(leaf, &destroyed));
    ex.run([&]() -> weft::Task<void> {
      while (gate.waiting() == 0) co_await weft::yield_now();
    }());
  }
  CHECK(destroyed == 12);
  auto again = [&]() -> weft::Task<void> { co_await leaf; };
  CHECK_THROWS_WITH(weft::block_on(again()), Catch::Contains("already awaited"));
}

namespace {
// Awaits a leaf that waits on `gate`.
weft::Task<void> await_leaf(weft_test::Gate* gate, long* destroyed) {
  struct Mark {
    long* destroyed;
    ~Mark() { *destroyed = *destroyed * 10 + 2; }
  } mark{destroyed};
  co_await wait_on(gate, destroyed, 1);
}

// Puts await_leaf's Task in `slot`, which its caller owns, and awaits it.
weft::Task<void> await_in_slot(std::optional<weft::Task<void>>* slot, weft_test::Gate* gate,
                               long* destroyed) {
  struct Mark {
    long* destroyed;
    ~Mark() { *destroyed = *destroyed * 10 + 3; }
  } mark{destroyed};
  slot->emplace(await_leaf(gate, destroyed));
  co_await **slot;
}
}  // namespace

TEST_CASE("a cancelled chain whose middle Task goes before the one above it is destroyed once",
          "[task][cancel]") {
  // root -> await_in_slot -> await_leaf -> wait_on (suspended). The root
  // destroys `slot` (await_leaf's Task) before `outer` (await_in_slot's):
  // the first walk starts in the middle of the chain, the second one above
  // it, where the first left off (never on a frame the first one freed).
  weft_test::Gate gate;
  long destroyed = 0;
  {
    weft::LocalExecutor ex;
    auto h = ex.spawn([](weft_test::Gate* g, long* d) -> weft::Task<void> {
      std::optional<weft::Task<void>> outer;
      std::optional<weft::Task<void>> slot;  // destroyed first
      outer.emplace(await_in_slot(&slot, g, d));
      co_await *outer;
    }(&gate, &destroyed));
    ex.run([&]() -> weft::Task<void> {
      while (gate.waiting() == 0) co_await weft::yield_now();
    }());
  }
  CHECK(destroyed == 123);  // the leaf, then each frame above it
}
