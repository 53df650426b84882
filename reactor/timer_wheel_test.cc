// TimerWheel: never early, never late, exactly once; level boundaries,
// cascading, far-future clamping, cancellation, re-insertion from fire, and a
// randomized comparison with a plain model. Time is a number we pass in: no
// test here waits on a clock.
#include "reactor/timer_wheel.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

using weft::detail::TimerNode;
using weft::detail::TimerWheel;

namespace {

constexpr uint64_t k64 = 64;
constexpr uint64_t kRange = TimerWheel::kRangeMs;
constexpr uint64_t kHour = 3'600'000;
constexpr uint64_t kYear = 365 * 24 * kHour;

// Distances that sit on or next to a level boundary (64^L), and the end of
// the wheel's range.
std::vector<uint64_t> boundary_distances() {
  std::vector<uint64_t> out = {1, 2};
  for (uint64_t span = k64; span < kRange; span *= k64) {
    out.push_back(span - 1);
    out.push_back(span);
    out.push_back(span + 1);
  }
  out.push_back(kRange - 1);
  return out;
}

// Starting times: zero, an arbitrary one, and ones just before a top-level
// slot and a whole-wheel boundary (where "deadline ^ now" is widest).
const uint64_t kBases[] = {0, 123'456'789, (uint64_t{1} << 30) - 1, kRange - 3,
                           5 * kRange + kRange / 2 - 1};

// Records what a poll fired, in order.
struct Recorder {
  std::vector<TimerNode*> fired;
  void operator()(TimerNode* n) {
    CHECK_FALSE(n->linked());
    fired.push_back(n);
  }
};

}  // namespace

TEST_CASE("the header example", "[timer_wheel]") {
  TimerNode node;
  TimerWheel wheel(/*now_ms=*/1000);
  node.deadline_ms = 1250;
  wheel.insert(&node);
  REQUIRE(wheel.next_expiration().has_value());
  CHECK(*wheel.next_expiration() <= 1250);
  CHECK(*wheel.next_expiration() > 1000);
  Recorder r;
  wheel.poll(1249, r);
  CHECK(r.fired.empty());
  CHECK(node.linked());
  wheel.poll(1250, r);
  CHECK(r.fired == std::vector<TimerNode*>{&node});
  CHECK_FALSE(node.linked());
  CHECK(wheel.empty());
  CHECK(wheel.now() == 1250);
  CHECK_FALSE(wheel.next_expiration().has_value());
}

TEST_CASE("absolute deadlines on level boundaries fire exactly on time", "[timer_wheel]") {
  // From time 0 the wheel's digits line up with these numbers.
  const uint64_t deadlines[] = {1, 63, 64, 65, 4095, 4096, 4097, 64 * 64 * 64 - 1,
                                64 * 64 * 64, 64 * 64 * 64 * 64, uint64_t{1} << 30, kRange - 1};
  for (uint64_t d : deadlines) {
    CAPTURE(d);
    TimerNode node;
    TimerWheel wheel(0);
    node.deadline_ms = d;
    wheel.insert(&node);
    CHECK(wheel.size() == 1);
    Recorder r;
    wheel.poll(d - 1, r);
    CHECK(r.fired.empty());
    // Only d itself lies in (d - 1, d]: whatever level the node cascaded
    // through, it is now reported exactly.
    CHECK(wheel.next_expiration() == std::optional<uint64_t>(d));
    wheel.poll(d, r);
    CHECK(r.fired.size() == 1);
    CHECK(wheel.empty());
  }
}

TEST_CASE("a deadline of 0, or any deadline <= now, is due at the next poll", "[timer_wheel]") {
  TimerNode zero, past, present, future;
  TimerWheel wheel(0);
  zero.deadline_ms = 0;
  wheel.insert(&zero);
  CHECK(wheel.next_expiration() == std::optional<uint64_t>(0));
  Recorder r;
  wheel.poll(0, r);  // time did not move; still due
  CHECK(r.fired == std::vector<TimerNode*>{&zero});

  wheel.poll(500, r);
  r.fired.clear();
  future.deadline_ms = 501;
  wheel.insert(&future);
  present.deadline_ms = 500;
  wheel.insert(&present);
  past.deadline_ms = 7;
  wheel.insert(&past);
  // Never later than the earliest deadline, even one in the past.
  CHECK(wheel.next_expiration() == std::optional<uint64_t>(7));
  wheel.poll(500, r);
  // Overdue nodes fire in insertion order; the future one waits.
  CHECK(r.fired == std::vector<TimerNode*>{&present, &past});
  CHECK(future.linked());
  CHECK(wheel.next_expiration() == std::optional<uint64_t>(501));
  wheel.poll(501, r);
  CHECK(r.fired.back() == &future);
}

TEST_CASE("every distance across every level fires on time from any start", "[timer_wheel]") {
  for (uint64_t base : kBases) {
    for (uint64_t dist : boundary_distances()) {
      CAPTURE(base, dist);
      const uint64_t d = base + dist;
      TimerNode node;
      TimerWheel wheel(base);
      node.deadline_ms = d;
      wheel.insert(&node);

      // Step one: a poll just before the deadline fires nothing, and leaves
      // the node reported at exactly its deadline.
      Recorder r;
      wheel.poll(d - 1, r);
      CHECK(r.fired.empty());
      CHECK(wheel.next_expiration() == std::optional<uint64_t>(d));

      // Step two: the driver's loop on a fresh wheel, sleeping until each
      // next_expiration(). It must reach the deadline without passing it,
      // waking at most once per level on the way.
      TimerNode node2;
      TimerWheel driven(base);
      node2.deadline_ms = d;
      driven.insert(&node2);
      Recorder r2;
      int wakeups = 0;
      while (r2.fired.empty() && wakeups <= TimerWheel::kLevels + 1) {
        std::optional<uint64_t> t = driven.next_expiration();
        REQUIRE(t.has_value());
        CHECK(*t > driven.now());
        CHECK(*t <= d);
        driven.poll(*t, r2);
        ++wakeups;
      }
      CHECK(r2.fired.size() == 1);
      CHECK(driven.now() == d);
      CHECK(wakeups <= TimerWheel::kLevels);
      wheel.poll(d, r);
      CHECK(r.fired.size() == 1);
    }
  }
}

TEST_CASE("10,000 random timers fire once each, in deadline order, never early",
          "[timer_wheel]") {
  constexpr int kTimers = 10'000;
  std::mt19937_64 rng(20240601);
  std::vector<TimerNode> nodes(kTimers);
  TimerWheel wheel(0);
  std::multiset<uint64_t> remaining;
  for (TimerNode& n : nodes) {
    n.deadline_ms = std::uniform_int_distribution<uint64_t>(1, 3 * kHour)(rng);
    wheel.insert(&n);
    remaining.insert(n.deadline_ms);
  }
  REQUIRE(wheel.size() == kTimers);

  std::vector<int> fired_count(kTimers, 0);
  uint64_t prev_now = 0, last_deadline = 0, now = 0;
  int early = 0, stale = 0, out_of_order = 0, polls = 0;
  auto fire = [&](TimerNode* n) {
    ++fired_count[n - nodes.data()];
    early += n->deadline_ms > now;
    stale += n->deadline_ms <= prev_now;  // should have fired in an earlier poll
    out_of_order += n->deadline_ms < last_deadline;
    last_deadline = n->deadline_ms;
    remaining.erase(remaining.find(n->deadline_ms));
  };
  while (!wheel.empty()) {
    // Mostly short steps, sometimes long ones that cross many slots at once.
    uint64_t step = rng() % 64 == 0 ? rng() % (10 * 60'000) : rng() % 100;
    now += step;
    wheel.poll(now, fire);
    ++polls;
    REQUIRE(wheel.size() == remaining.size());
    std::optional<uint64_t> next = wheel.next_expiration();
    REQUIRE(next.has_value() == !remaining.empty());
    if (next) {
      CHECK(*next > now);  // nothing was inserted as due
      CHECK(*next <= *remaining.begin());
    }
    prev_now = now;
  }
  CHECK(early == 0);
  CHECK(stale == 0);
  CHECK(out_of_order == 0);
  int not_once = 0;
  for (int c : fired_count) not_once += c != 1;
  CHECK(not_once == 0);
  CHECK(polls > 1000);  // the steps were small enough to interleave with deadlines
}

TEST_CASE("removed timers never fire; the others still do", "[timer_wheel]") {
  constexpr int kTimers = 10'000;
  std::mt19937_64 rng(7);
  std::vector<TimerNode> nodes(kTimers);
  std::vector<bool> removed(kTimers, false);
  TimerWheel wheel(0);
  for (TimerNode& n : nodes) {
    n.deadline_ms = std::uniform_int_distribution<uint64_t>(0, 2 * kHour)(rng);
    wheel.insert(&n);
  }
  std::vector<int> fired_count(kTimers, 0);
  uint64_t now = 0;
  size_t expected_size = kTimers;
  int early = 0;
  auto fire = [&](TimerNode* n) {
    ++fired_count[n - nodes.data()];
    early += n->deadline_ms > now;
    --expected_size;
  };
  while (!wheel.empty()) {
    // Cancel a few random timers that are still armed, then advance.
    for (int k = 0; k < 4; ++k) {
      size_t i = rng() % kTimers;
      if (nodes[i].linked() && rng() % 3 == 0) {
        wheel.remove(&nodes[i]);
        CHECK_FALSE(nodes[i].linked());
        removed[i] = true;
        --expected_size;
      }
    }
    now += rng() % 3'000;
    wheel.poll(now, fire);
    REQUIRE(wheel.size() == expected_size);
  }
  int removed_fired = 0, kept_not_fired = 0, removed_total = 0;
  for (int i = 0; i < kTimers; ++i) {
    removed_total += removed[i];
    removed_fired += removed[i] && fired_count[i] != 0;
    kept_not_fired += !removed[i] && fired_count[i] != 1;
  }
  CHECK(removed_total > 500);  // the test did cancel a fair number
  CHECK(removed_fired == 0);
  CHECK(kept_not_fired == 0);
  CHECK(early == 0);
}

TEST_CASE("remove() takes a node out of next_expiration()", "[timer_wheel]") {
  TimerNode soon, later, due;
  TimerWheel wheel(0);
  soon.deadline_ms = 1000;  // level 1: reported at its slot, 960
  later.deadline_ms = 5000;  // level 2: reported at its slot, 4096
  wheel.insert(&soon);
  wheel.insert(&later);
  CHECK(wheel.next_expiration() == std::optional<uint64_t>(960));
  wheel.remove(&soon);
  CHECK(wheel.size() == 1);
  CHECK(wheel.next_expiration() == std::optional<uint64_t>(4096));
  due.deadline_ms = 0;
  wheel.insert(&due);
  CHECK(wheel.next_expiration() == std::optional<uint64_t>(0));
  wheel.remove(&due);
  CHECK(wheel.next_expiration() == std::optional<uint64_t>(4096));
  wheel.remove(&later);
  CHECK(wheel.empty());
  CHECK_FALSE(wheel.next_expiration().has_value());
  // A poll over the removed deadlines fires nothing.
  int fires = 0;
  wheel.poll(10'000, [&](TimerNode*) { ++fires; });
  CHECK(fires == 0);
}

TEST_CASE("fire may re-insert the node, remove others, and insert new ones", "[timer_wheel]") {
  SECTION("an interval re-arms itself from fire") {
    TimerNode tick;
    TimerWheel wheel(0);
    constexpr uint64_t kPeriod = 7;
    tick.deadline_ms = kPeriod;
    wheel.insert(&tick);
    std::vector<uint64_t> fired_at;
    for (uint64_t now = 1; now <= 1000; now += 3) {
      wheel.poll(now, [&](TimerNode* n) {
        fired_at.push_back(n->deadline_ms);
        CHECK(n->deadline_ms <= now);
        n->deadline_ms += kPeriod;
        wheel.insert(n);
      });
      // Once per poll at most: the re-armed node waits for the next poll
      // even when its new deadline has also passed.
      CHECK(tick.linked());
    }
    // Deadlines 7, 14, ... each fired once, at most one per poll.
    REQUIRE(fired_at.size() >= 100);
    for (size_t i = 0; i < fired_at.size(); ++i) CHECK(fired_at[i] == (i + 1) * kPeriod);
  }

  SECTION("a zero-period re-insert fires once per poll, not forever") {
    TimerNode spin;
    TimerWheel wheel(10);
    spin.deadline_ms = 10;
    wheel.insert(&spin);
    int fires = 0;
    auto again = [&](TimerNode* n) {
      ++fires;
      wheel.insert(n);  // deadline 10 <= now: due at the next poll
    };
    wheel.poll(10, again);
    CHECK(fires == 1);
    CHECK(wheel.next_expiration() == std::optional<uint64_t>(10));
    wheel.poll(10, again);
    CHECK(fires == 2);
  }

  SECTION("removing a node that is due in the same poll stops it firing") {
    TimerNode a, b, c;
    TimerWheel wheel(0);
    a.deadline_ms = 5;
    b.deadline_ms = 6;
    c.deadline_ms = 6;
    wheel.insert(&a);
    wheel.insert(&b);
    wheel.insert(&c);
    std::vector<TimerNode*> fired;
    wheel.poll(100, [&](TimerNode* n) {
      fired.push_back(n);
      if (n == &a) {
        CHECK(b.linked());  // due, but not yet fired
        wheel.remove(&b);
      }
    });
    CHECK(fired == std::vector<TimerNode*>{&a, &c});
    CHECK(wheel.empty());
  }

  SECTION("a node inserted from fire fires at the right later poll") {
    TimerNode first, late, soon;
    TimerWheel wheel(0);
    first.deadline_ms = 10;
    wheel.insert(&first);
    std::vector<TimerNode*> fired;
    auto record = [&](TimerNode* n) { fired.push_back(n); };
    wheel.poll(20, [&](TimerNode* n) {
      fired.push_back(n);
      late.deadline_ms = 15;  // already past: next poll
      wheel.insert(&late);
      soon.deadline_ms = 30;
      wheel.insert(&soon);
      CHECK(wheel.size() == 2);
    });
    CHECK(fired == std::vector<TimerNode*>{&first});
    CHECK(wheel.next_expiration() == std::optional<uint64_t>(15));
    wheel.poll(20, record);
    CHECK(fired == std::vector<TimerNode*>{&first, &late});
    wheel.poll(29, record);
    CHECK(fired.size() == 2);
    wheel.poll(30, record);
    CHECK(fired.back() == &soon);
  }
}

TEST_CASE("a throwing fire leaves the rest of the batch due for the next poll",
          "[timer_wheel]") {
  TimerNode a, b, c, d;
  TimerWheel wheel(0);
  a.deadline_ms = 1;
  b.deadline_ms = 2;
  c.deadline_ms = 3;
  for (TimerNode* n : {&a, &b, &c}) wheel.insert(n);
  std::vector<TimerNode*> fired;
  CHECK_THROWS_AS(wheel.poll(10,
                             [&](TimerNode* n) {
                               fired.push_back(n);
                               if (n == &a) {
                                 // Due, but inserted during the poll: it
                                 // must stay behind the unfired batch.
                                 d.deadline_ms = 5;
                                 wheel.insert(&d);
                                 throw std::runtime_error("fire failed");
                               }
                             }),
                  std::runtime_error);
  CHECK(fired == std::vector<TimerNode*>{&a});
  CHECK(b.linked());
  CHECK(c.linked());
  CHECK(wheel.size() == 3);
  REQUIRE(wheel.next_expiration().has_value());
  CHECK(*wheel.next_expiration() <= 2);
  wheel.poll(10, [&](TimerNode* n) { fired.push_back(n); });
  CHECK(fired == std::vector<TimerNode*>{&a, &b, &c, &d});
  CHECK(wheel.empty());
}

TEST_CASE("deadlines beyond the wheel's range are clamped and fire on time", "[timer_wheel]") {
  SECTION("three years ahead, reached by the driver's loop") {
    for (uint64_t base : kBases) {
      CAPTURE(base);
      TimerNode far, near;
      TimerWheel wheel(base);
      far.deadline_ms = base + 3 * kYear;
      REQUIRE(far.deadline_ms - base > kRange);
      near.deadline_ms = base + kHour;
      wheel.insert(&far);
      // Clamped to the top level's farthest slot: reported within its last
      // 2^30 ms, never beyond the wheel's range.
      REQUIRE(wheel.next_expiration().has_value());
      CHECK(*wheel.next_expiration() <= base + kRange);
      CHECK(*wheel.next_expiration() > base + kRange - (uint64_t{1} << 30));
      wheel.insert(&near);
      std::vector<TimerNode*> fired;
      int wakeups = 0;
      while (fired.size() < 2 && wakeups < 100) {
        std::optional<uint64_t> t = wheel.next_expiration();
        REQUIRE(t.has_value());
        CHECK(*t > wheel.now());
        CHECK(*t <= (near.linked() ? near.deadline_ms : far.deadline_ms));
        wheel.poll(*t, [&](TimerNode* n) {
          CHECK(n->deadline_ms == *t);  // exactly on time
          fired.push_back(n);
        });
        ++wakeups;
      }
      CHECK(fired == std::vector<TimerNode*>{&near, &far});
      // One clamp per wheel range at most, plus a cascade per level.
      CHECK(wakeups <= 2 * TimerWheel::kLevels + 4);
    }
  }

  SECTION("big jumps: not before, and at, the deadline") {
    TimerNode far;
    TimerWheel wheel(0);
    far.deadline_ms = 3 * kRange + 12345;
    wheel.insert(&far);
    int fires = 0;
    wheel.poll(kRange, [&](TimerNode*) { ++fires; });
    wheel.poll(3 * kRange, [&](TimerNode*) { ++fires; });
    wheel.poll(far.deadline_ms - 1, [&](TimerNode*) { ++fires; });
    CHECK(fires == 0);
    CHECK(wheel.next_expiration() == std::optional<uint64_t>(far.deadline_ms));
    wheel.poll(far.deadline_ms, [&](TimerNode*) { ++fires; });
    CHECK(fires == 1);
  }

  SECTION("a deadline of UINT64_MAX (never) stays armed") {
    TimerNode never;
    TimerWheel wheel(0);
    never.deadline_ms = UINT64_MAX;
    wheel.insert(&never);
    int fires = 0;
    for (uint64_t now = 0; now <= 10 * kRange; now += kRange / 3) {
      wheel.poll(now, [&](TimerNode*) { ++fires; });
      std::optional<uint64_t> t = wheel.next_expiration();
      REQUIRE(t.has_value());
      CHECK(*t > now);
    }
    CHECK(fires == 0);
    CHECK(never.linked());
    wheel.remove(&never);
    CHECK(wheel.empty());
  }
}

TEST_CASE("random inserts, removes and polls agree with a plain model", "[timer_wheel]") {
  constexpr int kNodes = 512;
  constexpr int kRounds = 40'000;
  for (uint64_t base : kBases) {
    CAPTURE(base);
    std::mt19937_64 rng(base + 1);
    std::vector<TimerNode> nodes(kNodes);
    TimerWheel wheel(base);
    std::map<TimerNode*, uint64_t> model;  // linked node -> deadline
    // Distances spread over every level, the past, and beyond the range.
    auto random_deadline = [&](uint64_t now) -> uint64_t {
      switch (rng() % 8) {
        case 0: return now - std::min<uint64_t>(now, rng() % 100);  // already due
        case 1: return now + rng() % 64;
        case 2: return now + rng() % 4096;
        case 3: return now + rng() % (64 * 64 * 64);
        case 4: return now + rng() % (uint64_t{1} << 30);
        case 5: return now + rng() % kRange;
        case 6: return now + kRange + rng() % (2 * kRange);
        default: return now + 64 * (rng() % 200);  // on slot boundaries
      }
    };
    auto insert = [&](TimerNode* n, uint64_t deadline) {
      n->deadline_ms = deadline;
      wheel.insert(n);
      model[n] = deadline;
    };
    int mismatches = 0;
    for (int round = 0; round < kRounds; ++round) {
      TimerNode* n = &nodes[rng() % kNodes];
      uint32_t op = rng() % 10;
      if (op < 4) {
        if (!n->linked()) insert(n, random_deadline(wheel.now()));
      } else if (op < 6) {
        if (n->linked()) {
          wheel.remove(n);
          model.erase(n);
        }
      } else {
        // Poll, sometimes by a step that crosses many slots or the range.
        uint64_t step = rng() % 16 == 0 ? rng() % (2 * kRange) : rng() % 5'000;
        uint64_t now = wheel.now() + step;
        std::set<TimerNode*> due;  // linked at the start and due by now
        for (auto& [node, deadline] : model) {
          if (deadline <= now) due.insert(node);
        }
        std::set<TimerNode*> inserted_in_poll;
        std::vector<TimerNode*> fired;
        wheel.poll(now, [&](TimerNode* f) {
          fired.push_back(f);
          mismatches += !due.count(f) || inserted_in_poll.count(f);
          due.erase(f);
          model.erase(f);
          switch (rng() % 4) {
            case 0:  // re-arm, maybe already past
              insert(f, random_deadline(now));
              inserted_in_poll.insert(f);
              break;
            case 1: {  // cancel another node, maybe one due in this batch
              TimerNode* other = &nodes[rng() % kNodes];
              if (other->linked()) {
                wheel.remove(other);
                model.erase(other);
                due.erase(other);
              }
              break;
            }
            case 2: {  // arm another node
              TimerNode* other = &nodes[rng() % kNodes];
              if (!other->linked()) {
                insert(other, random_deadline(now));
                inserted_in_poll.insert(other);
              }
              break;
            }
            default:
              break;
          }
        });
        // Everything due at the start fired (or was cancelled meanwhile).
        mismatches += static_cast<int>(due.size());
        // Nodes that were already waiting are all in the future now.
        for (auto& [node, deadline] : model) {
          if (!inserted_in_poll.count(node)) mismatches += deadline <= now;
        }
      }
      if (wheel.size() != model.size()) ++mismatches;
      std::optional<uint64_t> next = wheel.next_expiration();
      if (model.empty()) {
        mismatches += next.has_value();
      } else {
        uint64_t earliest = UINT64_MAX;
        for (auto& [node, deadline] : model) earliest = std::min(earliest, deadline);
        mismatches += !next.has_value() || *next > earliest;
        // <= now exactly when something is due.
        if (next) mismatches += (*next <= wheel.now()) != (earliest <= wheel.now());
      }
      if (mismatches != 0) {
        FAIL("model mismatch at round " << round);
      }
    }
    // Drain: remove what is left, so the nodes outlive no wheel links.
    for (auto& [node, deadline] : model) wheel.remove(node);
    CHECK(wheel.empty());
  }
}

TEST_CASE("destroying the wheel unlinks the nodes it still holds", "[timer_wheel]") {
  TimerNode waiting, due;
  {
    TimerWheel wheel(100);
    waiting.deadline_ms = 100 + kHour;
    due.deadline_ms = 50;
    wheel.insert(&waiting);
    wheel.insert(&due);
    CHECK(waiting.linked());
    CHECK(due.linked());
  }
  CHECK_FALSE(waiting.linked());
  CHECK_FALSE(due.linked());
  // They can join another wheel.
  TimerWheel other(0);
  other.insert(&waiting);
  other.remove(&waiting);
}
