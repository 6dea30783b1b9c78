// The exit statuses of the sockparity command, named once: the help text,
// the README and the tests use these numbers.
#ifndef SOCKPARITY_TOOL_EXIT_CODES_H_
#define SOCKPARITY_TOOL_EXIT_CODES_H_

namespace sockparity::tool {

enum ExitCode : int {
  kExitOk = 0,
  // replay: an undocumented divergence. check: a case FAILED (or, with
  // --strict, NON-STRICT).
  kExitFailed = 1,
  // Bad usage; for check also a server command that cannot be started.
  kExitUsage = 2,
  // check: the case filters match no case.
  kExitNoCaseMatched = 3,
  // check: no case could run on any transport.
  kExitNothingRan = 4,
  // check: perturbation asked for but not in effect on some transport.
  kExitPerturbationNotInEffect = 5,
  // check: a report (--json, --junit, --html) could not be written whole:
  // before any other status but 2, since the run's results are lost.
  kExitReportNotWritten = 6,
  // check: --max-run-time ran out before every case was played (and no
  // case FAILED).
  kExitOutOfTime = 7,
};

// For the help texts.
inline constexpr char kCheckExitCodesHelp[] =
    "Exit status: 0 nothing FAILED (NON-STRICT, a SHOULD clause missed, is\n"
    "no failure); 1 a case FAILED, or with --strict was NON-STRICT; 2 bad\n"
    "usage, or the server cannot be started at all; 3 the filters match no\n"
    "case; 4 no case could run on any transport; 5 perturbation asked for\n"
    "but not in effect; 6 a report could not be written whole (a report\n"
    "path that cannot be written at all is found before the first case:\n"
    "2); 7 --max-run-time ran out before every case was played.";
inline constexpr char kReplayExitCodesHelp[] =
    "Exit status: 0 equal, or different only as the registry allows; 1 an\n"
    "undocumented divergence; 2 bad usage or an unreadable script.";

}  // namespace sockparity::tool

#endif  // SOCKPARITY_TOOL_EXIT_CODES_H_
