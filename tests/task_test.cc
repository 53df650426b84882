// Task<T>: results, exceptions, references, deep chains, misuse.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "executor/block_on.h"
#include "executor/task.h"

namespace {

weft::Task<int> answer() { co_return 42; }
weft::Task<int> twice() { co_return 2 * co_await answer(); }

weft::Task<std::string> throws() {
  throw std::runtime_error("boom");
  co_return "unreachable";
}

weft::Task<int&> ref_to(int& x) { co_return x; }

weft::Task<void> set_to(int& x, int v) {
  x = v;
  co_return;
}

weft::Task<long> depth(long n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await depth(n - 1);
}

// A loop of a million sequential awaits: symmetric transfer keeps the stack
// flat whether the child completes synchronously or not.
weft::Task<int> one() { co_return 1; }
weft::Task<long> long_loop(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await one();
  co_return sum;
}

}  // namespace

TEST_CASE("a Task's value reaches its awaiter", "[task]") {
  CHECK(weft::block_on(answer()) == 42);
  CHECK(weft::block_on(twice()) == 84);
}

TEST_CASE("a Task's exception reaches its awaiter", "[task]") {
  auto outer = []() -> weft::Task<std::string> {
    try {
      co_return co_await throws();
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
  };
  CHECK(weft::block_on(outer()) == "caught boom");
  CHECK_THROWS_WITH(weft::block_on(throws()), "boom");
}

TEST_CASE("Task<T&> returns the very object, Task<void> runs its body", "[task]") {
  int x = 5;
  int& r = weft::block_on(ref_to(x));
  CHECK(&r == &x);
  weft::block_on(set_to(x, 9));
  CHECK(x == 9);
}

TEST_CASE("a Task is lazy: nothing runs until it is awaited", "[task]") {
  int x = 0;
  {
    auto t = set_to(x, 1);
    CHECK(x == 0);
  }  // destroyed without running
  CHECK(x == 0);
}

TEST_CASE("a million nested co_awaits do not overflow the stack", "[task]") {
  CHECK(weft::block_on(depth(1'000'000)) == 1'000'000);
  CHECK(weft::block_on(long_loop(1'000'000)) == 1'000'000);
}

TEST_CASE("awaiting a moved-from Task fails with a message", "[task][misuse]") {
  auto outer = []() -> weft::Task<int> {
    auto t = answer();
    auto moved = std::move(t);
    int a = co_await moved;
    int b = co_await t;  // moved-from
    co_return a + b;
  };
  CHECK_THROWS_WITH(weft::block_on(outer()), Catch::Contains("moved-from"));
}

TEST_CASE("awaiting a Task twice fails with a message", "[task][misuse]") {
  auto outer = []() -> weft::Task<int> {
    auto t = answer();
    int a = co_await t;
    int b = co_await t;
    co_return a + b;
  };
  CHECK_THROWS_WITH(weft::block_on(outer()), Catch::Contains("already awaited"));
}
