// Internal: where each registry entry applies in one script. An entry with
// triggers (`after`) applies to a step only when a trigger step before it
// touched the step's socket (ScriptSockets::Touched); its allowance of
// received data covers only those sockets.
#ifndef SOCKPARITY_SCRIPT_ENTRY_SCOPES_H_
#define SOCKPARITY_SCRIPT_ENTRY_SCOPES_H_

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "script/script_sockets.h"
#include "sockparity/script/differences.h"
#include "sockparity/script/script.h"

namespace sockparity::internal {

// A step's text without its socket name and verb: "4" for "l listen 4".
std::string Arguments(const Step& step);

// Whether a step `verb args` matches a trigger pattern by its effect:
// "shutdown rdwr" is a "shutdown rd" and a "shutdown wr" too, and "abort"
// is a "close".
bool TriggerMatches(const CompiledPattern& pattern, Verb verb,
                    absl::string_view arguments);

class EntryScopes {
 public:
  EntryScopes(const DifferenceRegistry& registry, const Script& script);

  const ScriptSockets& sockets() const { return sockets_; }
  // Whether entry `entry` may explain a difference at step `step`.
  bool Applies(size_t entry, size_t step) const;
  // Adds the names of the sockets whose received bytes entry `entry`,
  // having explained step `step`, lets differ.
  void AddDataAllowed(size_t entry, size_t step,
                      std::set<std::string>* names) const;
  // The entry (data_differs_after_trigger) whose trigger touched the socket
  // named `name`, letting its received bytes differ; -1 for none.
  int DataDiffersAfterTrigger(const std::string& name) const;

 private:
  struct Trigger {
    size_t step;
    std::vector<int> touched;  // sorted
  };
  // The triggers of `entry` whose scope holds step `step`.
  std::vector<const Trigger*> TriggersReaching(size_t entry, size_t step) const;

  // A step of `and_after` other than `trigger_step`, on the sockets
  // `step`'s scope holds.
  bool AlsoReached(size_t entry, size_t step, size_t trigger_step) const;

  const DifferenceRegistry& registry_;
  ScriptSockets sockets_;
  std::vector<std::vector<Trigger>> triggers_;      // per entry: after
  std::vector<std::vector<Trigger>> and_triggers_;  // per entry: and_after
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_ENTRY_SCOPES_H_
