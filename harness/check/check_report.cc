// The reports of `sockparity check`: JSON and JUnit (the console table is
// in check_report_text.cc, the HTML page in check_report_html.cc).
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "check/report_format.h"
#include "sockparity/check/peer_check.h"

namespace sockparity {

std::string Short(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kNonStrict:
      return "NON-STRICT";
    case Verdict::kInformational:
      return "info";
    case Verdict::kNotApplicable:
      return "n/a";
    case Verdict::kUnsupported:
      return "unsup";
    case Verdict::kFailed:
      return "FAILED";
  }
  return "?";
}

// "3 OK, 0 NON-STRICT, ...": every verdict's count, in kAllVerdicts order.
std::string Totals(const CheckReport& report, absl::string_view between,
                   absl::string_view inside) {
  std::vector<std::string> parts;
  for (Verdict verdict : kAllVerdicts) {
    parts.push_back(
        absl::StrCat(report.Count(verdict), inside, VerdictName(verdict)));
  }
  return absl::StrJoin(parts, between);
}

namespace {

// The length of the valid UTF-8 sequence at the start of `text`, or 0
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceAt(absl::string_view text) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  const unsigned char lead = byte(0);
  size_t length;
  unsigned char low = 0x80, high = 0xbf;  // the second byte's range
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return length;
}

// Valid UTF-8 is kept as it is (a server's non-ASCII output, a path); a
// byte that is not is U+FFFD, so the report is always valid JSON.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceAt(text.substr(i));
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.data() + i, length);
        i += length;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

std::string Xml(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // XML 1.0 has no control characters but tab and newlines.
        if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f) {
          out += '?';
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

const CaseInfo* InfoFor(const std::vector<CaseInfo>& cases,
                        const std::string& id) {
  for (const CaseInfo& info : cases) {
    if (info.id == id) return &info;
  }
  return nullptr;
}

std::string CatalogJson(const std::vector<CaseInfo>& cases) {
  std::string out = "{\n  \"cases\": [";
  for (size_t i = 0; i < cases.size(); ++i) {
    const CaseInfo& info = cases[i];
    absl::StrAppend(&out, i == 0 ? "\n" : ",\n",
                    "    {\"id\": ", JsonString(info.id),
                    ", \"name\": ", JsonString(info.name),
                    ", \"description\": ", JsonString(info.description),
                    ", \"clause\": ", JsonString(info.clause),
                    ", \"reference\": ", JsonString(info.reference),
                    ", \"should\": ", info.should ? "true" : "false",
                    ", \"transports\": [");
    for (size_t k = 0; k < info.runs_on.size(); ++k) {
      absl::StrAppend(&out, k == 0 ? "" : ", ",
                      JsonString(ContractTransportName(info.runs_on[k])));
    }
    absl::StrAppend(&out, "]}");
  }
  return out + "\n  ]\n}\n";
}

std::string CheckReport::Json() const {
  std::string out = absl::StrFormat("{\n  \"seed\": %d,\n", seed);
  std::vector<std::string> argv;
  for (const std::string& arg : provenance.command)
    argv.push_back(JsonString(arg));
  absl::StrAppend(
      &out,
      "  \"sockparity_version\": ", JsonString(provenance.sockparity_version),
      ",\n  \"subject\": ", JsonString(subject),
      ",\n  \"contract_version\": ", JsonString(provenance.contract_version),
      ",\n  \"server_command\": [", absl::StrJoin(argv, ", "),
      "],\n  \"started\": ", JsonString(Rfc3339(provenance.started)),
      ",\n  \"duration_s\": ",
      absl::StrFormat("%.3f", absl::ToDoubleSeconds(provenance.took)),
      ",\n  \"kernel\": ", JsonString(provenance.kernel), ",\n");
  std::vector<std::string> modes, missing;
  for (const std::string& mode : perturb) modes.push_back(JsonString(mode));
  for (const auto& [kind, why] : perturb_not_in_effect) {
    missing.push_back(absl::StrCat(
        "{\"transport\": ", JsonString(ContractTransportName(kind)),
        ", \"why\": ", JsonString(why), "}"));
  }
  std::vector<std::string> skipped, noted;
  for (const std::string& line : not_played)
    skipped.push_back(JsonString(line));
  for (const std::string& line : notes) noted.push_back(JsonString(line));
  absl::StrAppend(&out, "  \"perturb\": [", absl::StrJoin(modes, ", "),
                  "],\n  \"perturbation_not_in_effect\": [",
                  absl::StrJoin(missing, ", "), "],\n  \"ran_out_of_time\": ",
                  ran_out_of_time ? "true" : "false", ",\n  \"not_played\": [",
                  absl::StrJoin(skipped, ", "), "],\n  \"notes\": [",
                  absl::StrJoin(noted, ", "), "],\n  \"results\": [\n");
  bool first = true;
  auto item = [&](const std::string& id, const std::string& transport,
                  const CaseResult& result) {
    const CaseInfo* info = InfoFor(cases, id);
    absl::StrAppend(
        &out, first ? "" : ",\n", "    {\"case\": ", JsonString(id),
        ", \"name\": ", JsonString(info ? info->name : ""),
        ", \"clause\": ", JsonString(info ? info->clause : ""),
        ", \"reference\": ", JsonString(info ? info->reference : ""),
        ", \"should\": ", info && info->should ? "true" : "false",
        ", \"transport\": ", JsonString(transport),
        ", \"verdict\": ", JsonString(VerdictName(result.verdict)),
        ", \"duration_ms\": ", absl::ToInt64Milliseconds(result.duration),
        ", \"reason\": ", JsonString(result.reason),
        ", \"wire_log\": ", JsonString(result.wire_log),
        ", \"server_output\": ", JsonString(result.server_output), "}");
    first = false;
  };
  for (const Cell& cell : cells)
    item(cell.case_id, ContractTransportName(cell.transport), cell.result);
  for (const auto& [id, result] : cross) item(id, "across", result);
  std::vector<std::string> totals;
  for (Verdict verdict : kAllVerdicts) {
    totals.push_back(
        absl::StrCat(JsonString(VerdictName(verdict)), ": ", Count(verdict)));
  }
  absl::StrAppend(&out, "\n  ],\n  \"totals\": {", absl::StrJoin(totals, ", "),
                  "}\n}\n");
  return out;
}

std::string CheckReport::Junit() const {
  std::string body;
  int tests = 0, failures = 0, skipped = 0;
  auto item = [&](const std::string& id, const std::string& transport,
                  const CaseResult& result) {
    const CaseInfo* info = InfoFor(cases, id);
    ++tests;
    absl::StrAppendFormat(&body,
                          "    <testcase classname=\"sockparity.check.%s\" "
                          "name=\"%s %s\" time=\"%.3f\">",
                          Xml(transport), Xml(id), Xml(info ? info->name : ""),
                          absl::ToDoubleSeconds(result.duration));
    if (result.verdict == Verdict::kFailed) {
      ++failures;
      // A raw newline in an attribute becomes a space in every parser:
      // the message is the reason on one line, the body the whole of it.
      absl::StrAppend(
          &body, "<failure message=\"",
          Xml(absl::StrReplaceAll(result.reason, {{"\n", " "}})), "\">",
          Xml(result.reason), "\n\n", Xml(result.wire_log),
          result.server_output.empty()
              ? ""
              : absl::StrCat("\nthe ", subject, "'s output during the case:\n"),
          Xml(result.server_output), "</failure>");
    } else if (result.verdict == Verdict::kUnsupported ||
               result.verdict == Verdict::kNotApplicable) {
      ++skipped;
      absl::StrAppend(&body, "<skipped message=\"", Xml(result.reason), "\"/>");
    } else if (!result.reason.empty()) {
      absl::StrAppend(&body, "<system-out>", Xml(VerdictName(result.verdict)),
                      ": ", Xml(result.reason), "</system-out>");
    }
    absl::StrAppend(&body, "</testcase>\n");
  };
  for (const Cell& cell : cells)
    item(cell.case_id, ContractTransportName(cell.transport), cell.result);
  for (const auto& [id, result] : cross) item(id, "across", result);
  return absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite "
      "name=\"sockparity "
      "check\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" "
      "timestamp=\"%s\" time=\"%.3f\">\n"
      "    <properties>\n"
      "      <property name=\"sockparity_version\" value=\"%s\"/>\n"
      "      <property name=\"contract_version\" value=\"%s\"/>\n"
      "      <property name=\"server_command\" value=\"%s\"/>\n"
      "      <property name=\"kernel\" value=\"%s\"/>\n"
      "      <property name=\"seed\" value=\"%d\"/>\n"
      "    </properties>\n%s  "
      "</testsuite>\n</testsuites>\n",
      tests, failures, skipped,
      Xml(absl::FormatTime("%Y-%m-%dT%H:%M:%S", provenance.started,
                           absl::UTCTimeZone())),
      absl::ToDoubleSeconds(provenance.took),
      Xml(provenance.sockparity_version), Xml(provenance.contract_version),
      Xml(absl::StrJoin(provenance.command, " ")), Xml(provenance.kernel), seed,
      body);
}

}  // namespace sockparity
