// The colour of each verdict's cells in every HTML page: check's own
// report and the page across libraries that ci/results.py writes, which
// reads this table (ci/results_files.py), so the two cannot drift.
#ifndef SOCKPARITY_CHECK_VERDICT_COLOURS_H_
#define SOCKPARITY_CHECK_VERDICT_COLOURS_H_

namespace sockparity {

struct VerdictColour {
  const char* verdict;  // as VerdictName prints it
  const char* colour;   // CSS
};

// In kAllVerdicts' order (verdict.h); the report test checks both.
inline constexpr VerdictColour kVerdictColours[] = {
    {"OK", "#c8f0c8"},
    {"NON-STRICT", "#fff0b0"},
    {"INFORMATIONAL", "#d8e8ff"},
    {"N/A", "#f4f4f4"},
    {"UNSUPPORTED", "#e8e8e8"},
    {"FAILED", "#ffb8b8"},
};

}  // namespace sockparity

#endif  // SOCKPARITY_CHECK_VERDICT_COLOURS_H_
