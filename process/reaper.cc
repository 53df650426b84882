#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "process/reaper_internal.h"
#include "signal/signals.h"

namespace weft {
namespace detail {
namespace {

class Reaper {
 public:
  static Reaper& get() {
    static Reaper* r = new Reaper;  // never destroyed: the hook may run at exit
    return *r;
  }

  void adopt(pid_t pid) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!hooked_) {  // step 1 (reaper_internal.h)
        hooked_ = add_permanent_signal_hook(SIGCHLD, &Reaper::sweep_hook).ok();
      }
      orphans_.push_back(pid);  // step 2
    }
    sweep();  // step 3
  }

  void sweep() {
    std::lock_guard<std::mutex> l(mu_);
    std::erase_if(orphans_, [](pid_t pid) {
      for (;;) {
        int status;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == 0) return false;  // still running
        if (r < 0 && errno == EINTR) continue;
        return true;  // reaped, or not ours any more (ECHILD)
      }
    });
  }

  size_t pending() {
    std::lock_guard<std::mutex> l(mu_);
    return orphans_.size();
  }

 private:
  static void sweep_hook() { get().sweep(); }

  std::mutex mu_;
  bool hooked_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<pid_t> orphans_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

void reap_orphan(pid_t pid) { Reaper::get().adopt(pid); }
size_t orphans_pending() { return Reaper::get().pending(); }

}  // namespace detail
}  // namespace weft
