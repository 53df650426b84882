#include "base/owned_fd.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "catch2/catch.hpp"

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int new_fd() {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  return fd;
}

}  // namespace

TEST_CASE("OwnedFd closes its descriptor when destroyed") {
  int raw = new_fd();
  {
    weft::OwnedFd fd(raw);
    CHECK(fd);
    CHECK(fd.get() == raw);
    CHECK(fd.native_handle() == raw);
  }
  CHECK_FALSE(is_open(raw));
}

TEST_CASE("OwnedFd: a default or moved-from OwnedFd holds nothing") {
  weft::OwnedFd empty;
  CHECK_FALSE(empty);
  CHECK(empty.get() == -1);

  int raw = new_fd();
  weft::OwnedFd a(raw);
  weft::OwnedFd b(std::move(a));
  CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  CHECK(b.get() == raw);
  weft::OwnedFd c;
  c = std::move(b);
  CHECK_FALSE(b);  // NOLINT(bugprone-use-after-move)
  CHECK(c.get() == raw);
  CHECK(is_open(raw));
}

TEST_CASE("OwnedFd move assignment closes the descriptor it held") {
  int first = new_fd();
  int second = new_fd();
  weft::OwnedFd a(first);
  a = weft::OwnedFd(second);
  CHECK_FALSE(is_open(first));
  CHECK(a.get() == second);
}

TEST_CASE("OwnedFd::release gives the descriptor up without closing it") {
  int raw = new_fd();
  int released = -1;
  {
    weft::OwnedFd fd(raw);
    released = fd.release();
    CHECK_FALSE(fd);
  }
  CHECK(released == raw);
  CHECK(is_open(raw));
  ::close(raw);
}

TEST_CASE("OwnedFd::reset closes the old descriptor and takes the new one") {
  int first = new_fd();
  int second = new_fd();
  weft::OwnedFd fd(first);
  fd.reset(second);
  CHECK_FALSE(is_open(first));
  CHECK(fd.get() == second);
  fd.reset();
  CHECK_FALSE(is_open(second));
  CHECK_FALSE(fd);
}

TEST_CASE("OwnedFd::close reports close(2)'s errno and holds nothing after") {
  weft::OwnedFd empty;
  CHECK(empty.close() == 0);

  int raw = new_fd();
  weft::OwnedFd fd(raw);
  CHECK(fd.close() == 0);
  CHECK_FALSE(fd);
  CHECK_FALSE(is_open(raw));

  // A descriptor closed behind the OwnedFd's back: close(2) fails with EBADF,
  // and close() says so instead of swallowing it.
  int stolen = new_fd();
  weft::OwnedFd owner(stolen);
  REQUIRE(::close(stolen) == 0);
  CHECK(owner.close() == EBADF);
  CHECK_FALSE(owner);
}
