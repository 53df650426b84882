// errno -> absl::Status: the one place weft's I/O code turns a failed
// syscall's errno into a status code and a message.
//
// The code follows absl::ErrnoToStatusCode except where absl's choice reads
// wrongly to someone who passed an address (see errno_code() in
// io_status.cc, which lists every divergence with its reason):
//
//   EADDRNOTAVAIL  Unavailable        (absl: AlreadyExists) "address not
//                                     available": not an address of this
//                                     machine, or no free local port
//   EADDRINUSE     AlreadyExists      (absl: FailedPrecondition)
//   EALREADY       FailedPrecondition (absl: AlreadyExists) an operation is
//                                     already in progress on this socket
//
// Everything else keeps absl's code (EACCES/EPERM -> PermissionDenied,
// ECONNREFUSED/ECONNRESET -> Unavailable, EMFILE -> ResourceExhausted, ...).
//
// The message is "weft: <what>: <the system's text>", the same shape as
// absl::ErrnoToStatus. It is built here with strerror_r into a local buffer,
// without calling into the abseil shared library's StrError: Debian's
// libabsl is not built with TSan, and its lazily built message table is
// reported as a race when two threads meet it (a --config=tsan program would
// exit 66 on its first error from two threads).
#ifndef WEFT_ASYNC_FD_IO_STATUS_H_
#define WEFT_ASYNC_FD_IO_STATUS_H_

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weft {

// The status code for `err` (an errno value); kUnknown for 0 or a value no
// table knows.
absl::StatusCode errno_code(int err);

// The system's message for `err` ("Connection refused"), or weft's own
// where the system's misleads (EADDRNOTAVAIL). Thread-safe; no static buffer.
std::string errno_message(int err);

// A status for the failed syscall: code errno_code(err), message
// "weft: <what>: <errno_message(err)>".
absl::Status errno_status(int err, absl::string_view what);

// The status of a wait on an Async<T> that was closed or destroyed.
inline absl::Status closed_status() {
  return absl::CancelledError("weft: the I/O object was closed while a task waited on it");
}

}  // namespace weft

#endif  // WEFT_ASYNC_FD_IO_STATUS_H_
