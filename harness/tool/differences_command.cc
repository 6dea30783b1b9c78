// `sockparity differences`: the registry of documented differences.
#include <iostream>

#include "commands.h"
#include "exit_codes.h"
#include "sockparity/script/differences.h"

namespace sockparity::tool {

CLI::App* AddDifferences(CLI::App& app, DifferencesArgs& args) {
  CLI::App* differences = app.add_subcommand(
      "differences",
      "Print the registry of documented differences between transports.");
  differences->add_flag("--markdown", args.markdown,
                        "as docs/DIFFERENCES.md (generated from it)");
  differences->add_flag("--ids", args.ids,
                        "only the entries' ids, one per line (for scripts: "
                        "bench/rediscovery.sh)");
  return differences;
}

int RunDifferences(const DifferencesArgs& args) {
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  if (args.ids) {
    for (const Difference& entry : registry.entries())
      std::cout << entry.id << "\n";
    return kExitOk;
  }
  std::cout << (args.markdown ? registry.Markdown() : registry.Text());
  return kExitOk;
}

}  // namespace sockparity::tool
