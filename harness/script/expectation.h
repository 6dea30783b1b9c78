// Internal: the assertion after a step's "=", as text and back.
#ifndef SOCKPARITY_SCRIPT_EXPECTATION_H_
#define SOCKPARITY_SCRIPT_EXPECTATION_H_

#include <string>

#include "absl/strings/string_view.h"
#include "sockparity/script/script.h"

namespace sockparity::internal {

struct ExpectationError {
  size_t offset;  // into the text given
  std::string what;
};

// `text` is what follows the "=": "OUTCOME", or groups "KINDS: OUTCOME"
// separated by ';' (KINDS: names joined by ','), with at most one group
// without KINDS, which holds for every kind not named. Returns false and
// fills `error` when a kind is unknown or named twice, an outcome is empty,
// or a kind is left without one.
bool ParseExpectation(absl::string_view text, Expectation* expect,
                      ExpectationError* error);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_EXPECTATION_H_
