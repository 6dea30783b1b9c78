// A GoogleTest listener that fails every test that leaves a descriptor,
// thread, child process, temporary directory or socket file behind.
#ifndef SOCKPARITY_TESTING_GTEST_HYGIENE_H_
#define SOCKPARITY_TESTING_GTEST_HYGIENE_H_

#include "gtest/gtest.h"

namespace sockparity {

// Appends the listener to GoogleTest's; call after InitGoogleTest. The
// sockparity::gtest_main target does this for you.
void InstallHygieneListener();

}  // namespace sockparity

#endif  // SOCKPARITY_TESTING_GTEST_HYGIENE_H_
