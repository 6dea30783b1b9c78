// Checks libsockparity_perturb.so from the inside: run with LD_PRELOAD set
// to it and SOCKPARITY_PERTURB to the modes a check needs (see
// CMakeLists.txt), or, for the checks that compare runs, as a driver that
// runs itself under the library. Prints what it saw; exits 1 when a check
// fails.
#include <cstdio>
#include <string>

#include "probe.h"

namespace sockparity::probe {
namespace {

int Main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "short-io") return ShortIo();
  if (mode == "eintr") return Eintr();
  if (mode == "accept-aborted") return AcceptAborted();
  if (mode == "pipe") return PipeUntouched();
  if (mode == "announce") return Announce();
  if (mode == "cuts") return Cuts();
  if (mode == "no-handler") return NoHandlerNoEintr();
  if (mode == "handler-no-restart") return HandlerWithoutRestart();
  if (mode == "handler-restart") return HandlerWithRestart();
  if (mode == "blocked-signal") return BlockedSignal();
  if (mode == "timeout") return TimeoutAllowsEintr();
  if (mode == "short-legal") return ShortOnlyWhereAllowed();
  if (mode == "aborted-legal") return AbortedOnlyWhereLinuxCan();
  if (mode == "edge-triggered") return EdgeTriggered();
  if (mode == "seeds" && argc > 2) return Seeds(argv[0], argv[2]);
  if (mode == "unknown" && argc > 2) return Unknown(argv[0], argv[2]);
  std::fprintf(stderr,
               "usage: perturb_probe short-io|eintr|accept-aborted|pipe|"
               "announce|cuts|no-handler|handler-no-restart|handler-restart|"
               "blocked-signal|timeout|short-legal|aborted-legal (under the "
               "library)\n"
               "       perturb_probe seeds|unknown LIBRARY\n");
  return 2;
}

}  // namespace
}  // namespace sockparity::probe

int main(int argc, char** argv) { return sockparity::probe::Main(argc, argv); }
