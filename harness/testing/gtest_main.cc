#include "gtest/gtest.h"
#include "sockparity/testing/gtest_hygiene.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  sockparity::InstallHygieneListener();
  return RUN_ALL_TESTS();
}
