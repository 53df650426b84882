#include "examples/stop_signals.h"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace examples {

absl::StatusOr<StopSignals> StopSignals::block() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  if (const int err = pthread_sigmask(SIG_BLOCK, &stop, nullptr); err != 0) {
    return absl::InternalError(absl::StrCat("pthread_sigmask: ", std::strerror(err)));
  }
  const int fd = ::signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return weft::errno_status(errno, "signalfd");
  auto a = weft::Async<weft::OwnedFd>::create(weft::OwnedFd(fd));
  if (!a.ok()) return a.status();
  return StopSignals(*std::move(a));
}

weft::Task<absl::StatusOr<int>> StopSignals::next() {
  signalfd_siginfo info{};
  absl::Status st = co_await fd_.read_exact(&info, sizeof info);
  if (!st.ok()) co_return st;
  co_return static_cast<int>(info.ssi_signo);
}

}  // namespace examples
