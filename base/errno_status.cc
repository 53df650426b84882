#include "base/errno_status.h"

#include <string.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace weft {

absl::StatusCode errno_code(int err) {
  using C = absl::StatusCode;
  switch (err) {
    case 0:
      return C::kOk;
    // --- where weft differs from absl::ErrnoToStatusCode -------------------
    // bind() to an address that is not this machine's (`--listen 1.2.3.4`),
    // or connect() with no local port left. Neither says that something
    // "already exists" (absl's code); both may pass once an interface comes
    // up or ports free, which is what Unavailable means. Rust: AddrNotAvailable.
    case EADDRNOTAVAIL:
      return C::kUnavailable;
    // The address is taken: AlreadyExists names that directly (Rust:
    // AddrInUse). absl says FailedPrecondition.
    case EADDRINUSE:
      return C::kAlreadyExists;
    // "Operation already in progress" (a second connect on one socket): the
    // socket's state is wrong for the call. absl says AlreadyExists.
    case EALREADY:
      return C::kFailedPrecondition;
    // --- the rest as absl maps them ------------------------------------------
    case E2BIG: case EDESTADDRREQ: case EDOM: case EFAULT: case EILSEQ: case EINVAL:
    case ENAMETOOLONG: case ENOPROTOOPT: case ENOSTR: case ENOTSOCK: case ENOTTY:
    case EPROTOTYPE: case ESPIPE:
      return C::kInvalidArgument;
    case ETIME: case ETIMEDOUT:
      return C::kDeadlineExceeded;
    case ENODEV: case ENOENT: case ENOMEDIUM: case ENXIO: case ESRCH:
      return C::kNotFound;
    case EEXIST: case ENOTUNIQ:
      return C::kAlreadyExists;
    case EACCES: case ENOKEY: case EPERM: case EROFS:
      return C::kPermissionDenied;
    case EBADF: case EBADFD: case EBUSY: case ECHILD: case EISCONN: case EISDIR: case EISNAM:
    case ENOTBLK: case ENOTCONN: case ENOTDIR: case ENOTEMPTY: case EPIPE: case ESHUTDOWN:
    case ETXTBSY: case EUNATCH:
      return C::kFailedPrecondition;
    case EDQUOT: case EMFILE: case EMLINK: case ENFILE: case ENOBUFS: case ENODATA:
    case ENOMEM: case ENOSPC: case ENOSR: case EUSERS:
      return C::kResourceExhausted;
    case ECHRNG: case EFBIG: case EOVERFLOW: case ERANGE:
      return C::kOutOfRange;
    case EAFNOSUPPORT: case ENOPKG: case ENOSYS: case EOPNOTSUPP: case EPFNOSUPPORT:
    case EPROTONOSUPPORT: case ESOCKTNOSUPPORT: case EXDEV:
      return C::kUnimplemented;
    case EAGAIN: case ECOMM: case ECONNABORTED: case ECONNREFUSED: case ECONNRESET:
    case EHOSTDOWN: case EHOSTUNREACH: case EINTR: case ENETDOWN: case ENETRESET:
    case ENETUNREACH: case ENOLCK: case ENOLINK: case ENONET:
      return C::kUnavailable;
    case EDEADLK: case ESTALE:
      return C::kAborted;
    case ECANCELED:
      return C::kCancelled;
    default:
      return C::kUnknown;
  }
}

std::string errno_message(int err) {
  // The system's "Cannot assign requested address" names neither cause.
  if (err == EADDRNOTAVAIL) {
    return "address not available (not an address of this machine, or no free local port)";
  }
  char buf[128];
  // GNU strerror_r (g++ defines _GNU_SOURCE): returns either `buf` or a
  // pointer to an immutable string; never a shared static buffer.
  const char* text = ::strerror_r(err, buf, sizeof buf);
  return std::string(text);
}

absl::Status errno_status(int err, absl::string_view what) {
  return absl::Status(errno_code(err), absl::StrCat("weft: ", what, ": ", errno_message(err)));
}

absl::Status errno_status_plain(int err, absl::string_view what) {
  return absl::Status(errno_code(err), absl::StrCat(what, ": ", errno_message(err)));
}

}  // namespace weft
