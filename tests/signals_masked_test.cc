// weft::Signals in a program that blocked the signal in every thread before
// any started (what signalfd users do): the "weft-signals" thread keeps
// weft's signals unblocked, so the signal still arrives. Its own binary: the
// mask is set before main, so every thread (weft's included) inherits it.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include <catch2/catch.hpp>

#include "weft.h"

namespace {

// Runs before main and before any thread.
const bool g_blocked = [] {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  return pthread_sigmask(SIG_BLOCK, &s, nullptr) == 0;
}();

weft::Task<int> next_of(weft::Signals* s) { co_return co_await s->next(); }

}  // namespace

TEST_CASE("a signal blocked in every other thread is delivered through weft's thread") {
  REQUIRE(g_blocked);
  auto s = weft::signal(SIGUSR1);
  REQUIRE(s.ok());
  std::thread([] { ::kill(::getpid(), SIGUSR1); }).join();  // this thread blocks it too
  CHECK(weft::block_on(next_of(&*s)) == SIGUSR1);
  // Twice: the dispatcher's mask stays right after the first delivery.
  ::kill(::getpid(), SIGUSR1);
  CHECK(weft::block_on(next_of(&*s)) == SIGUSR1);
}
