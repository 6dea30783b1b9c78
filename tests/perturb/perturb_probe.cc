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
  if (mode == "edge-triggered") return EdgeTriggered();
  if (mode == "seeds" && argc > 2) return Seeds(argv[0], argv[2]);
  if (mode == "unknown" && argc > 2) return Unknown(argv[0], argv[2]);
  std::fprintf(stderr,
               "usage: perturb_probe short-io|eintr|accept-aborted|pipe|"
               "announce|cuts (under the library)\n"
               "       perturb_probe seeds|unknown LIBRARY\n");
  return 2;
}

}  // namespace
}  // namespace sockparity::probe

int main(int argc, char** argv) { return sockparity::probe::Main(argc, argv); }
