// sockparity_bench: Google Benchmark's command line, plus
// --sockparity_report_dir=DIR, which writes ratios.json and ratios.dat
// there. The ratio table is printed after the runs either way.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "benchmark/benchmark.h"
#include "benchmarks.h"
#include "ratio_report.h"

namespace sockparity::bench {
namespace {

// Keeps each benchmark's median (or its only run) for the ratio report.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  CollectingReporter()
      : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median =
          run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      // The registered name, without "/iterations:N" or "/real_time".
      const std::string key = run.run_name.function_name;
      if (!median && medians_.count(key)) continue;
      Result result;
      result.seconds_per_iteration =
          run.GetAdjustedRealTime() /
          benchmark::GetTimeUnitMultiplier(run.time_unit);
      if (auto it = run.counters.find("bytes_per_second");
          it != run.counters.end()) {
        result.bytes_per_second = it->second.value;
      }
      if (auto it = run.counters.find("items_per_second");
          it != run.counters.end()) {
        result.items_per_second = it->second.value;
      }
      results_[key] = result;
      if (median) medians_.insert(key);
    }
  }

  const Results& results() const { return results_; }

 private:
  Results results_;
  std::set<std::string> medians_;
};

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "sockparity_bench: cannot write %s: %s\n",
                 path.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace
}  // namespace sockparity::bench

int main(int argc, char** argv) {
  using namespace sockparity::bench;
  std::string report_dir;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--sockparity_report_dir=")) {
      report_dir = std::string(arg);
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RegisterIoBenchmarks();
  RegisterScriptBenchmarks();
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::printf("\n%s", RatioTable(reporter.results()).c_str());
  if (!report_dir.empty()) {
    if (!WriteFile(report_dir + "/ratios.json",
                   RatioJson(reporter.results())) ||
        !WriteFile(report_dir + "/ratios.dat", RatioDat(reporter.results()))) {
      return 1;
    }
  }
  return 0;
}
