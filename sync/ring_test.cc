// Ring: FIFO order across growth and wrap-around, push_front, move-only items.
#include <catch2/catch.hpp>

#include <memory>

#include "sync/ring.h"

TEST_CASE("Ring keeps FIFO order across wrap-around and growth", "[ring]") {
  weft::detail::Ring<int> r;
  int next_in = 0, next_out = 0;
  // Fill and drain by uneven amounts so head wraps at every size it grows to.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 3; ++i) r.push_back(int{next_in++});
    for (int i = 0; i < round % 5 + 1 && !r.empty(); ++i) CHECK(r.pop_front() == next_out++);
  }
  while (!r.empty()) CHECK(r.pop_front() == next_out++);
  CHECK(next_in == next_out);
}

TEST_CASE("Ring push_front puts an item before everything else", "[ring]") {
  weft::detail::Ring<std::unique_ptr<int>> r;
  for (int i = 1; i <= 9; ++i) r.push_back(std::make_unique<int>(i));  // grows past 8
  r.push_front(std::make_unique<int>(0));
  REQUIRE(r.size() == 10);
  for (int i = 0; i <= 9; ++i) CHECK(*r.pop_front() == i);
  CHECK(r.empty());
}
