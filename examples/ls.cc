// ls DIR: lists a directory with weft::fs::read_dir, with each entry's
// type and size from weft::fs::symlink_metadata. The metadata of every
// entry is requested at once (each call starts a job on the blocking
// pool), then awaited in name order.
//
//   bazel run //examples:ls -- /etc
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "weft.h"

namespace {

char type_char(weft::fs::FileType t) {
  switch (t) {
    case weft::fs::FileType::kDirectory: return 'd';
    case weft::fs::FileType::kSymlink: return 'l';
    case weft::fs::FileType::kFifo: return 'p';
    case weft::fs::FileType::kSocket: return 's';
    case weft::fs::FileType::kCharDevice: return 'c';
    case weft::fs::FileType::kBlockDevice: return 'b';
    case weft::fs::FileType::kFile: return '-';
    case weft::fs::FileType::kUnknown: break;
  }
  return '?';
}

weft::Task<int> list(std::string dir) {
  auto rd = co_await weft::fs::read_dir(dir);
  if (!rd.ok()) {
    std::fprintf(stderr, "ls: %s\n", std::string(rd.status().message()).c_str());
    co_return 1;
  }
  std::vector<weft::fs::DirEntry> entries;
  for (;;) {
    auto e = co_await rd->next();
    if (!e.ok()) {
      std::fprintf(stderr, "ls: %s\n", std::string(e.status().message()).c_str());
      co_return 1;
    }
    if (!*e) break;
    entries.push_back(std::move(**e));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.file_name() < b.file_name(); });

  // All the lstat calls in flight at once, then collected in order.
  std::vector<weft::BlockingJob<absl::StatusOr<weft::fs::Metadata>>> stats;
  stats.reserve(entries.size());
  for (const auto& e : entries) stats.push_back(weft::fs::symlink_metadata(e.path()));

  uint64_t total = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto m = co_await stats[i];
    const auto& e = entries[i];
    if (!m.ok()) {  // removed meanwhile, or not allowed
      std::printf("%c %12s  %s\n", type_char(e.file_type()), "?", e.file_name().c_str());
      continue;
    }
    total += m->len();
    std::printf("%c%c%c%c%c%c%c%c%c%c %12llu  %s%s\n", type_char(m->file_type()),
                m->permissions() & 0400 ? 'r' : '-', m->permissions() & 0200 ? 'w' : '-',
                m->permissions() & 0100 ? 'x' : '-', m->permissions() & 040 ? 'r' : '-',
                m->permissions() & 020 ? 'w' : '-', m->permissions() & 010 ? 'x' : '-',
                m->permissions() & 04 ? 'r' : '-', m->permissions() & 02 ? 'w' : '-',
                m->permissions() & 01 ? 'x' : '-', static_cast<unsigned long long>(m->len()),
                e.file_name().c_str(), m->is_dir() ? "/" : "");
  }
  std::printf("%zu entries, %llu bytes\n", entries.size(), static_cast<unsigned long long>(total));
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  return weft::block_on(list(argv[1]));
}
