// Turns the benchmark results into the figures users ask for: the harness's
// cost over raw system calls, each kind against socketpair, and the suite's
// own rates. Pure functions of the results, so a test can feed them.
#ifndef SOCKPARITY_BENCH_RATIO_REPORT_H_
#define SOCKPARITY_BENCH_RATIO_REPORT_H_

#include <map>
#include <string>

namespace sockparity::bench {

struct Result {
  double seconds_per_iteration = 0;  // real time
  double bytes_per_second = 0;       // 0 when not set
  double items_per_second = 0;       // 0 when not set
};

// Keyed by benchmark name without "/real_time" ("RoundTrip/raw/tcp4").
using Results = std::map<std::string, Result>;

// The harness is within this of raw calls, or the table says "over".
inline constexpr double kHarnessGoal = 1.10;

// The ratio tables and rates as text for the terminal.
std::string RatioTable(const Results& results);
// The same as one JSON object.
std::string RatioJson(const Results& results);
// Rows for gnuplot: kind, harness/raw latency, harness/raw throughput time,
// latency vs socketpair, throughput vs socketpair.
std::string RatioDat(const Results& results);

}  // namespace sockparity::bench

#endif  // SOCKPARITY_BENCH_RATIO_REPORT_H_
