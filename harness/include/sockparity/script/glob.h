#ifndef SOCKPARITY_SCRIPT_GLOB_H_
#define SOCKPARITY_SCRIPT_GLOB_H_

#include "absl/strings/string_view.h"

namespace sockparity {

// Shell-style match of the whole text: '*' is any run of characters, '?' any
// one character; everything else matches itself.
bool GlobMatch(absl::string_view pattern, absl::string_view text);

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_GLOB_H_
