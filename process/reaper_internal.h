// The reaper: takes over children whose Child was destroyed before they were
// reaped, so none of them stays a zombie (tokio's orphan queue,
// async-process's reaper).
//
// Protocol (the order is what makes it lose no child):
//   1. The first orphan installs weft's SIGCHLD handler for the rest of the
//      process (signals.h, add_permanent_signal_hook) with sweep() as its
//      hook, run on the "weft-signals" thread after SIGCHLD arrivals.
//   2. The pid joins the orphan list (under the reaper's lock).
//   3. The caller sweeps once itself: a child that exited before step 1
//      sent its SIGCHLD before weft listened, so only this sweep sees it.
//   Any child that exits after step 1 raises SIGCHLD, whose hook sweeps.
//   A sweep calls waitpid(pid, WNOHANG) for each orphan and drops those
//   reaped (or already gone: ECHILD).
// If step 1 fails (sigaction refused), orphans are still swept on every
// later reap_orphan() call; nothing else is lost.
#ifndef WEFT_PROCESS_REAPER_INTERNAL_H_
#define WEFT_PROCESS_REAPER_INTERNAL_H_

#include <sys/types.h>

#include <cstddef>

namespace weft {
namespace detail {

void reap_orphan(pid_t pid);
size_t orphans_pending();

}  // namespace detail
}  // namespace weft

#endif  // WEFT_PROCESS_REAPER_INTERNAL_H_
