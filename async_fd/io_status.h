// Async<T>'s statuses. errno_status() (base/errno_status.h) maps a failed
// syscall; closed_status() is a wait on an object that was closed.
#ifndef WEFT_ASYNC_FD_IO_STATUS_H_
#define WEFT_ASYNC_FD_IO_STATUS_H_

#include "absl/status/status.h"
#include "base/errno_status.h"

namespace weft {

// The status of an operation on an Async<T> that was closed or destroyed,
// before the operation started or while it waited (like Asio's
// operation_aborted).
inline absl::Status closed_status() {
  return absl::CancelledError("weft: the I/O object was closed (or closed while a task waited on it)");
}

}  // namespace weft

#endif  // WEFT_ASYNC_FD_IO_STATUS_H_
