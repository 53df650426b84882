// base/intrusive_fifo.h: order, chains, splice, empty lists, many nodes.
#include "base/intrusive_fifo.h"

#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

namespace {

struct Node {
  int id = 0;
  Node* next = reinterpret_cast<Node*>(0x1);  // garbage the list must overwrite
};
using Fifo = weft::IntrusiveFifo<Node, &Node::next>;

// The ids of a null-terminated chain.
std::vector<int> ids(Node* chain) {
  std::vector<int> out;
  for (Node* n = chain; n != nullptr; n = n->next) out.push_back(n->id);
  return out;
}

// Pops everything, checking each popped node comes back unlinked.
std::vector<int> drain(Fifo& q) {
  std::vector<int> out;
  while (Node* n = q.pop_front()) {
    CHECK(n->next == nullptr);
    out.push_back(n->id);
  }
  return out;
}

}  // namespace

TEST_CASE("IntrusiveFifo: an empty list gives nothing back") {
  Fifo q;
  CHECK(q.empty());
  CHECK(q.front() == nullptr);
  CHECK(q.back() == nullptr);
  CHECK(q.pop_front() == nullptr);
  CHECK(q.take_all() == nullptr);
  size_t count = 7;
  CHECK(q.take_chain(5, &count) == nullptr);
  CHECK(count == 0);
  Fifo other;
  q.splice_back(other);
  CHECK(q.empty());
}

TEST_CASE("IntrusiveFifo: pops in push order and is reusable once empty") {
  Node n[3] = {{1}, {2}, {3}};
  Fifo q;
  for (Node& x : n) q.push_back(&x);
  CHECK_FALSE(q.empty());
  CHECK(q.front() == &n[0]);
  CHECK(q.back() == &n[2]);
  CHECK(n[2].next == nullptr);
  CHECK(drain(q) == std::vector<int>{1, 2, 3});
  CHECK(q.empty());
  // The tail was reset with the head: a push after emptying starts afresh.
  q.push_back(&n[2]);
  q.push_back(&n[0]);
  CHECK(drain(q) == std::vector<int>{3, 1});
}

TEST_CASE("IntrusiveFifo: push_chain appends a whole chain after what is there") {
  Node n[4] = {{1}, {2}, {3}, {4}};
  Fifo q;
  q.push_back(&n[0]);
  n[1].next = &n[2];
  n[2].next = &n[3];
  q.push_chain(&n[1], &n[3]);
  CHECK(n[3].next == nullptr);
  CHECK(drain(q) == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("IntrusiveFifo: take_chain takes the oldest max nodes, null-terminated") {
  Node n[5] = {{1}, {2}, {3}, {4}, {5}};
  Fifo q;
  for (Node& x : n) q.push_back(&x);
  size_t count = 0;
  Node* chain = q.take_chain(2, &count);
  CHECK(count == 2);
  CHECK(ids(chain) == std::vector<int>{1, 2});
  chain = q.take_chain(0, &count);
  CHECK(chain == nullptr);
  CHECK(count == 0);
  // More than there is: takes the rest and leaves the list empty.
  chain = q.take_chain(100, &count);
  CHECK(count == 3);
  CHECK(ids(chain) == std::vector<int>{3, 4, 5});
  CHECK(q.empty());
  q.push_back(&n[0]);
  CHECK(drain(q) == std::vector<int>{1});
}

TEST_CASE("IntrusiveFifo: take_all empties the list in order") {
  Node n[3] = {{1}, {2}, {3}};
  Fifo q;
  for (Node& x : n) q.push_back(&x);
  CHECK(ids(q.take_all()) == std::vector<int>{1, 2, 3});
  CHECK(q.empty());
  CHECK(q.pop_front() == nullptr);
  q.push_back(&n[1]);
  CHECK(drain(q) == std::vector<int>{2});
}

TEST_CASE("IntrusiveFifo: splice_back moves another list to the end") {
  Node n[5] = {{1}, {2}, {3}, {4}, {5}};
  Fifo a, b;
  a.push_back(&n[0]);
  a.push_back(&n[1]);
  b.push_back(&n[2]);
  b.push_back(&n[3]);
  a.splice_back(b);
  CHECK(b.empty());
  a.push_back(&n[4]);  // the tail moved to b's last node
  CHECK(drain(a) == std::vector<int>{1, 2, 3, 4, 5});
  // Into an empty list.
  Fifo c;
  b.push_back(&n[0]);
  c.splice_back(b);
  CHECK(b.empty());
  CHECK(drain(c) == std::vector<int>{1});
}

TEST_CASE("IntrusiveFifo: many nodes, interleaved pushes and pops, keep FIFO order") {
  constexpr int kNodes = 100000;
  std::vector<Node> nodes(kNodes);
  for (int i = 0; i < kNodes; ++i) nodes[i].id = i;
  Fifo q;
  std::vector<int> out;
  int pushed = 0;
  while (pushed < kNodes) {
    // Push three, pop one, with a take_chain of 5 now and then.
    for (int k = 0; k < 3 && pushed < kNodes; ++k) q.push_back(&nodes[pushed++]);
    if (Node* n = q.pop_front()) out.push_back(n->id);
    if (pushed % 999 == 0) {
      size_t count = 0;
      for (int id : ids(q.take_chain(5, &count))) out.push_back(id);
    }
  }
  for (int id : drain(q)) out.push_back(id);
  REQUIRE(out.size() == static_cast<size_t>(kNodes));
  for (int i = 0; i < kNodes; ++i) {
    if (out[i] != i) FAIL("node " << out[i] << " came out at position " << i);
  }
}
