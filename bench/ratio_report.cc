#include "ratio_report.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sockparity/net/transport.h"

namespace sockparity::bench {
namespace {

std::optional<Result> Find(const Results& results, const std::string& name) {
  auto it = results.find(name);
  if (it == results.end() || it->second.seconds_per_iteration <= 0) {
    return std::nullopt;
  }
  return it->second;
}

// harness time / raw time for one family and kind.
std::optional<double> HarnessOverRaw(const Results& results,
                                     absl::string_view family,
                                     absl::string_view kind) {
  std::optional<Result> raw =
      Find(results, absl::StrCat(family, "/raw/", kind));
  std::optional<Result> harness =
      Find(results, absl::StrCat(family, "/harness/", kind));
  if (!raw || !harness) return std::nullopt;
  return harness->seconds_per_iteration / raw->seconds_per_iteration;
}

// kind time / socketpair time on raw calls (above 1: slower).
std::optional<double> OverSocketpair(const Results& results,
                                     absl::string_view family,
                                     absl::string_view kind) {
  std::optional<Result> base =
      Find(results, absl::StrCat(family, "/raw/socketpair"));
  std::optional<Result> mine =
      Find(results, absl::StrCat(family, "/raw/", kind));
  if (!base || !mine) return std::nullopt;
  return mine->seconds_per_iteration / base->seconds_per_iteration;
}

std::string Cell(std::optional<double> value, int decimals = 3) {
  return value ? absl::StrFormat("%.*f", decimals, *value) : std::string("-");
}

std::string Verdict(std::optional<double> ratio) {
  if (!ratio) return "-";
  return *ratio <= kHarnessGoal ? "ok" : "over";
}

std::string JsonNumber(std::optional<double> value) {
  return value ? absl::StrFormat("%.4f", *value) : std::string("null");
}

std::optional<double> Rate(const Results& results, const std::string& name) {
  std::optional<Result> result = Find(results, name);
  if (!result || result->items_per_second <= 0) return std::nullopt;
  return result->items_per_second;
}

}  // namespace

std::string RatioTable(const Results& results) {
  std::string out = absl::StrFormat(
      "harness / raw system calls (time per operation; goal <= %.2f)\n"
      "%-14s %10s %10s %10s %10s %10s %10s\n",
      kHarnessGoal, "kind", "rtt raw", "rtt ratio", "", "MiB/s raw",
      "strm ratio", "");
  for (TransportKind kind : kAllTransportKinds) {
    const std::string name(TransportName(kind));
    std::optional<Result> rtt = Find(results, "RoundTrip/raw/" + name);
    std::optional<Result> stream = Find(results, "Stream/raw/" + name);
    std::optional<double> rtt_ratio =
        HarnessOverRaw(results, "RoundTrip", name);
    std::optional<double> stream_ratio =
        HarnessOverRaw(results, "Stream", name);
    absl::StrAppendFormat(
        &out, "%-14s %10s %10s %10s %10s %10s %10s\n", name,
        rtt ? absl::StrFormat("%.2fus", rtt->seconds_per_iteration * 1e6) : "-",
        Cell(rtt_ratio), Verdict(rtt_ratio),
        stream ? absl::StrFormat("%.0f", stream->bytes_per_second / 1048576)
               : "-",
        Cell(stream_ratio), Verdict(stream_ratio));
  }
  absl::StrAppendFormat(
      &out,
      "\neach kind against socketpair (raw calls; latency: time ratio, "
      "throughput: rate ratio)\n%-14s %12s %12s\n",
      "kind", "latency x", "throughput x");
  for (TransportKind kind : kAllTransportKinds) {
    const std::string name(TransportName(kind));
    std::optional<double> latency = OverSocketpair(results, "RoundTrip", name);
    std::optional<double> stream = OverSocketpair(results, "Stream", name);
    absl::StrAppendFormat(
        &out, "%-14s %12s %12s\n", name, Cell(latency),
        Cell(stream ? std::optional<double>(1 / *stream) : std::nullopt));
  }
  absl::StrAppendFormat(
      &out,
      "\nthe suite's own rates (per second; baseline: ACKs awaited after "
      "every step)\n%-14s %12s %12s %12s\n",
      "kind", "scripts", "baseline", "pairs");
  for (TransportKind kind : kAllTransportKinds) {
    const std::string name(TransportName(kind));
    absl::StrAppendFormat(&out, "%-14s %12s %12s %12s\n", name,
                          Cell(Rate(results, "Script/" + name), 0),
                          Cell(Rate(results, "ScriptAckEveryStep/" + name), 0),
                          Cell(Rate(results, "PairSetup/" + name), 0));
  }
  absl::StrAppendFormat(&out, "%-14s %12s\n", "differential",
                        Cell(Rate(results, "Differential/all"), 1));
  return out;
}

std::string RatioJson(const Results& results) {
  std::vector<std::string> kinds;
  for (TransportKind kind : kAllTransportKinds) {
    const std::string name(TransportName(kind));
    std::optional<double> stream = OverSocketpair(results, "Stream", name);
    kinds.push_back(absl::StrFormat(
        "    \"%s\": {\"roundtrip_harness_over_raw\": %s, "
        "\"stream_harness_over_raw\": %s, \"latency_over_socketpair\": %s, "
        "\"throughput_over_socketpair\": %s, \"scripts_per_second\": %s, "
        "\"pairs_per_second\": %s}",
        name, JsonNumber(HarnessOverRaw(results, "RoundTrip", name)),
        JsonNumber(HarnessOverRaw(results, "Stream", name)),
        JsonNumber(OverSocketpair(results, "RoundTrip", name)),
        JsonNumber(stream ? std::optional<double>(1 / *stream) : std::nullopt),
        JsonNumber(Rate(results, "Script/" + name)),
        JsonNumber(Rate(results, "PairSetup/" + name))));
  }
  return absl::StrFormat(
      "{\n  \"harness_goal\": %.2f,\n  \"differential_per_second\": %s,\n"
      "  \"kinds\": {\n%s\n  }\n}\n",
      kHarnessGoal, JsonNumber(Rate(results, "Differential/all")),
      absl::StrJoin(kinds, ",\n"));
}

std::string RatioDat(const Results& results) {
  std::string out =
      "# kind rtt_harness_over_raw stream_harness_over_raw "
      "latency_over_socketpair throughput_over_socketpair\n";
  auto value = [](std::optional<double> v) {
    return v ? absl::StrFormat("%.4f", *v) : std::string("NaN");
  };
  for (TransportKind kind : kAllTransportKinds) {
    const std::string name(TransportName(kind));
    std::optional<double> stream = OverSocketpair(results, "Stream", name);
    absl::StrAppendFormat(
        &out, "%s %s %s %s %s\n", name,
        value(HarnessOverRaw(results, "RoundTrip", name)),
        value(HarnessOverRaw(results, "Stream", name)),
        value(OverSocketpair(results, "RoundTrip", name)),
        value(stream ? std::optional<double>(1 / *stream) : std::nullopt));
  }
  return out;
}

}  // namespace sockparity::bench
