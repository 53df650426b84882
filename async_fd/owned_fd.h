// Forwarding header, kept for source compatibility: weft::OwnedFd lives in
// base/owned_fd.h (blocking_pool/ uses it too, and base/ is the layer both
// components may depend on). Include either path; the type is the same.
#ifndef WEFT_ASYNC_FD_OWNED_FD_H_
#define WEFT_ASYNC_FD_OWNED_FD_H_

#include "base/owned_fd.h"

#endif  // WEFT_ASYNC_FD_OWNED_FD_H_
