// weft: a small C++20 coroutine runtime. This header includes the whole
// public API; depend on //:weft.
#ifndef WEFT_WEFT_H_
#define WEFT_WEFT_H_

#include "async_fd/address.h"
#include "async_fd/async.h"
#include "async_fd/owned_fd.h"
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
#include "sync/barrier.h"
#include "sync/channel.h"
#include "sync/channel_result.h"
#include "sync/event.h"
#include "sync/mutex.h"
#include "sync/oneshot.h"
#include "sync/rw_lock.h"
#include "sync/semaphore.h"
#include "sync/stop.h"
#include "sync/wait_group.h"
#include "sync/when_all.h"
#include "sync/when_any.h"

#endif  // WEFT_WEFT_H_
