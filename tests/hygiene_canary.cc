// Tests that leak on purpose, run by hygiene_test to prove the hygiene
// listener fails them. Not registered with ctest itself.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/temp_dir.h"

namespace {

TEST(Canary, LeaksDescriptor) {
  ASSERT_GE(::open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
}

TEST(Canary, LeaksThread) {
  static int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  // Blocks until the process exits.
  std::thread([] {
    char byte;
    (void)::read(fds[0], &byte, 1);
  }).detach();
}

TEST(Canary, LeaksChild) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
}

std::string leaked_dir;

TEST(Canary, LeaksTemporaryDirectory) {
  leaked_dir = absl::StrCat(sockparity::TempRoot(), "/",
                            sockparity::TempDirPrefix(), "canary");
  ASSERT_TRUE(std::filesystem::create_directory(leaked_dir));
  // Removed at exit, after the listener has seen it: the canary itself
  // leaves nothing on disk.
  ::atexit([] { std::filesystem::remove_all(leaked_dir); });
}

TEST(Canary, CleansUp) {
  absl::StatusOr<sockparity::SocketPair> pair =
      sockparity::MakeConnectedPair(sockparity::TransportKind::kUnixPath);
  ASSERT_TRUE(pair.ok()) << pair.status();
}

}  // namespace
