// Random lifecycle scripts over every verb and socket role. A step the
// generator knows would wait out its timeout on every kind (a read with
// nothing to come) is left out, for it costs a second; one that may wait
// where the generator cannot know what is queued (an urgent byte, a full
// buffer) is made seldom; one whose outcome a kernel timer decides, never.
// The choices come from outside (a RapidCheck generator, fuzzer bytes), so
// the same model serves both and a smaller choice sequence gives a smaller
// script.
#ifndef SOCKPARITY_SCRIPT_SCRIPT_GEN_H_
#define SOCKPARITY_SCRIPT_SCRIPT_GEN_H_

#include <cstdint>
#include <functional>

#include "absl/types/span.h"
#include "sockparity/script/script.h"

namespace sockparity {

// Returns a choice in [0, n); n >= 1.
using ChoiceSource = std::function<uint32_t(uint32_t n)>;

struct ScriptGenOptions {
  int max_steps = 24;
  int max_send = 4096;  // bytes per send
};

Script GenerateLifecycleScript(const ChoiceSource& choose,
                               const ScriptGenOptions& options = {});

// Choices read from bytes (two per choice, little endian); zeros once the
// bytes run out, which ends the script early.
class ByteChoices {
 public:
  explicit ByteChoices(absl::Span<const uint8_t> bytes) : bytes_(bytes) {}
  uint32_t operator()(uint32_t n);

 private:
  absl::Span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_SCRIPT_GEN_H_
