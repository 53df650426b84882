// errno -> absl::Status, keeping the system's message and saying what failed.
#ifndef WEFT_ASYNC_FD_IO_STATUS_H_
#define WEFT_ASYNC_FD_IO_STATUS_H_

#include <cerrno>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weft {

inline absl::Status errno_status(int err, absl::string_view what) {
  return absl::ErrnoToStatus(err, absl::StrCat("weft: ", what));
}

// The status of an operation on an Async<T> that was closed or destroyed,
// before the operation started or while it waited (like Asio's
// operation_aborted).
inline absl::Status closed_status() {
  return absl::CancelledError("weft: the I/O object was closed (or closed while a task waited on it)");
}

}  // namespace weft

#endif  // WEFT_ASYNC_FD_IO_STATUS_H_
