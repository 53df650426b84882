// weft: a small C++20 coroutine runtime. This header includes the whole
// public API; depend on //:weft.
#ifndef WEFT_WEFT_H_
#define WEFT_WEFT_H_

#include "async_fd/address.h"
#include "async_fd/async.h"
#include "async_fd/owned_fd.h"
#include "blocking_pool/blocking_io.h"
#include "blocking_pool/blocking_job.h"
#include "blocking_pool/fs_copy.h"
#include "blocking_pool/fs_file.h"
#include "blocking_pool/fs_metadata.h"
#include "blocking_pool/fs_ops.h"
#include "blocking_pool/fs_read_dir.h"
#include "blocking_pool/pool.h"
#include "blocking_pool/unblock.h"
#include "blocking_pool/unblock_io.h"
#include "async_fd/resolve.h"
#include "async_fd/tcp.h"
#include "async_fd/udp.h"
#include "async_fd/unix.h"
#include "async_fd/unix_address.h"
#include "executor/block_on.h"
#include "executor/executor.h"
#include "executor/global.h"
#include "executor/join_handle.h"
#include "executor/local_executor.h"
#include "executor/task.h"
#include "executor/waker.h"
#include "executor/yield.h"
#include "reactor/timer.h"

#endif  // WEFT_WEFT_H_
