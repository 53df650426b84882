// errno -> absl::Status: the one place weft (sockets, the reactor, fs::)
// turns a failed syscall's errno into a status code and a message.
//
// The code follows absl::ErrnoToStatusCode except where absl's choice reads
// wrongly to someone who passed an address (see errno_code() in
// errno_status.cc, which lists every divergence with its reason):
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
#ifndef WEFT_BASE_ERRNO_STATUS_H_
#define WEFT_BASE_ERRNO_STATUS_H_

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

// The same code, message "<what>: <errno_message(err)>" (no "weft: "
// prefix: fs:: messages name the operation and path themselves).
absl::Status errno_status_plain(int err, absl::string_view what);

}  // namespace weft

#endif  // WEFT_BASE_ERRNO_STATUS_H_
