// Text reports of traces, side by side.
#ifndef SOCKPARITY_SCRIPT_TRACE_TABLE_H_
#define SOCKPARITY_SCRIPT_TRACE_TABLE_H_

#include <string>
#include <vector>

#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"

namespace sockparity {

// One row per step: the step's text, then each trace's outcome; with
// `details`, the uncompared detail follows in brackets. Then what each
// socket received. A table wider than 100 columns is printed grouped
// instead: a step's line per distinct outcome, naming its transports.
std::string FormatTracesSideBySide(const Script& script,
                                   const std::vector<Trace>& traces,
                                   bool details);

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_TRACE_TABLE_H_
