// The ratio report pairs the right benchmarks, computes the ratios the
// right way round, and flags the harness when it is over the goal.
#include "ratio_report.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sockparity::bench {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

Result Time(double seconds, double bytes_per_second = 0) {
  Result result;
  result.seconds_per_iteration = seconds;
  result.bytes_per_second = bytes_per_second;
  return result;
}

Results Sample() {
  Results results;
  results["RoundTrip/raw/socketpair"] = Time(10e-6);
  results["RoundTrip/harness/socketpair"] = Time(10.5e-6);
  results["RoundTrip/raw/tcp4"] = Time(20e-6);
  results["RoundTrip/harness/tcp4"] = Time(25e-6);
  results["Stream/raw/socketpair"] = Time(10e-6, 6.4e9);
  results["Stream/harness/socketpair"] = Time(11e-6, 5.8e9);
  results["Stream/raw/tcp4"] = Time(40e-6, 1.6e9);
  results["Stream/harness/tcp4"] = Time(40e-6, 1.6e9);
  Result script;
  script.seconds_per_iteration = 1e-3;
  script.items_per_second = 1000;
  results["Script/tcp4"] = script;
  return results;
}

TEST(RatioReportTest, HarnessOverRawWithVerdict) {
  const std::string table = RatioTable(Sample());
  EXPECT_THAT(table, ContainsRegex("socketpair +10\\.00us +1\\.050 +ok"));
  EXPECT_THAT(table, ContainsRegex("tcp4 +20\\.00us +1\\.250 +over"));
  // Missing benchmarks (unix, a skipped tcp6) show as "-", not as zero.
  EXPECT_THAT(table, ContainsRegex("tcp6 +- +- +-"));
}

TEST(RatioReportTest, KindsAgainstSocketpair) {
  const std::string table = RatioTable(Sample());
  // tcp4 takes twice as long per round trip and streams at a quarter.
  EXPECT_THAT(table, ContainsRegex("tcp4 +2\\.000 +0\\.250"));
  EXPECT_THAT(table, ContainsRegex("tcp4 +1000 +- +-\n"));
}

TEST(RatioReportTest, JsonAndDatCarryTheSameRatios) {
  const std::string json = RatioJson(Sample());
  EXPECT_THAT(json, HasSubstr("\"tcp4\": {\"roundtrip_harness_over_raw\": "
                              "1.2500, \"stream_harness_over_raw\": 1.0000, "
                              "\"latency_over_socketpair\": 2.0000, "
                              "\"throughput_over_socketpair\": 0.2500"));
  EXPECT_THAT(json, HasSubstr("\"unix\": {\"roundtrip_harness_over_raw\": "
                              "null"));
  const std::string dat = RatioDat(Sample());
  EXPECT_THAT(dat, HasSubstr("\ntcp4 1.2500 1.0000 2.0000 0.2500\n"));
  EXPECT_THAT(dat, HasSubstr("\nunix NaN NaN NaN NaN\n"));
}

}  // namespace
}  // namespace sockparity::bench
