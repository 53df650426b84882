// Spawns a few tasks on weft's global executor, joins them, prints results.
#include <cstdio>
#include <vector>

#include "weft.h"

weft::Task<long> sum_to(long n) {
  long s = 0;
  for (long i = 1; i <= n; ++i) {
    s += i;
    if (i % 1000 == 0) co_await weft::yield_now();  // share the worker
  }
  co_return s;
}

weft::Task<int> main_task() {
  std::vector<weft::JoinHandle<long>> handles;
  for (long n : {10L, 100L, 1000L, 1000000L}) handles.push_back(weft::spawn(sum_to(n)));
  for (size_t i = 0; i < handles.size(); ++i) {
    long v = co_await handles[i];
    std::printf("task %zu: sum = %ld\n", i, v);
  }
  co_return 0;
}

int main() { return weft::block_on(main_task()); }
