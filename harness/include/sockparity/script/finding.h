// An undocumented divergence as an overnight run counts it: many generated
// scripts show the same difference, so a finding is kept once per
// signature, with the shortest script that shows it and a draft of the
// registry entry that would document it.
#ifndef SOCKPARITY_SCRIPT_FINDING_H_
#define SOCKPARITY_SCRIPT_FINDING_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sockparity/script/differential.h"
#include "sockparity/script/script.h"

namespace sockparity {

struct Finding {
  // The earliest diverging step's verb (socket names and numbers left out)
  // and the kinds grouped by what they gave there, e.g.
  // "shutdown rd: socketpair=ok | unix-path,unix-abstract=ok | tcp4,tcp6=EINVAL".
  std::string signature;
  Script script;  // the steps up to the divergence
  // A registry entry (registry.cc's form) whose statement, source and
  // descriptions are left for a person to write.
  std::string draft_entry;
};

// nullopt when `run` did not diverge.
std::optional<Finding> FindingOf(const Script& script,
                                 const DifferentialRun& run);

// FindingOf, with the finding's script run once more on the same kinds: a
// divergence that does not come back there (a race, in the harness or the
// kernel) is kept under a signature that starts "did not replay: ", never
// as a plain finding; one that does is described as it came back.
std::optional<Finding> ReplayedFindingOf(const Script& script,
                                         const DifferentialRun& run,
                                         const DifferenceRegistry& registry);

// A script file `sockparity replay` reads: the signature and the draft
// entry as comments, then the steps.
std::string FormatFinding(const Finding& finding);

// Keeps `finding` in `dir` (created if missing): one file per signature,
// <hash>.script, replaced only by a shorter script, and <hash>.seen, one
// byte per time it was seen. Safe across processes (a fuzzer's jobs).
absl::Status RecordFinding(absl::string_view dir, const Finding& finding);

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_FINDING_H_
