#include "gtest/gtest.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/testing/gtest_hygiene.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  sockparity::InstallHygieneListener();
  // A run stopped by a signal (ctest's timeout, `timeout`) runs no
  // destructor: the sweeper removes the socket directories it left.
  (void)sockparity::StartTempDirSweeper();
  return RUN_ALL_TESTS();
}
