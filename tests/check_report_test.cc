// The reports say where their verdicts come from (provenance), and a
// JUnit failure's message is one line (a raw newline in an attribute is a
// space to every parser): the whole reason goes into the body.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "check/case_helpers.h"
#include "check/verdict_colours.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/check/peer_check.h"

namespace sockparity {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

CheckReport AReport() {
  CheckReport report;
  report.seed = 7;
  report.provenance = {.sockparity_version = "9.8.7",
                       .contract_version = kContractVersion,
                       .command = {"./server", "--flag"},
                       .started = absl::FromUnixSeconds(1764936000),
                       .took = absl::Milliseconds(1500),
                       .kernel = "Linux 6.1.0 x86_64"};
  CaseInfo info;
  info.id = "1.1";
  info.name = "echo/small";
  report.cases.push_back(info);
  CaseResult failed;
  failed.verdict = Verdict::kFailed;
  failed.reason = "expected 00 00 00 05\nsaw end of stream";
  failed.wire_log = "> 9 bytes";
  report.cells.push_back({"1.1", ContractTransport::kUnix, failed});
  return report;
}

TEST(CheckReport, JsonSaysWhereItsVerdictsComeFrom) {
  const std::string json = AReport().Json();
  EXPECT_THAT(json, HasSubstr("\"sockparity_version\": \"9.8.7\""));
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"contract_version\": \"",
                                           kContractVersion, "\"")));
  EXPECT_THAT(json,
              HasSubstr("\"server_command\": [\"./server\", \"--flag\"]"));
  EXPECT_THAT(json, HasSubstr("\"started\": \"2025-12-05T12:00:00Z\""));
  EXPECT_THAT(json, HasSubstr("\"duration_s\": 1.500"));
  EXPECT_THAT(json, HasSubstr("\"kernel\": \"Linux 6.1.0 x86_64\""));
}

// Valid UTF-8 as it is, a byte that is not UTF-8 as U+FFFD: valid JSON
// either way (each byte >= 0x80 as its own \u00XX corrupted UTF-8).
TEST(CheckReport, JsonKeepsUtf8AndReplacesWhatIsNot) {
  CheckReport report = AReport();
  report.cells[0].result.reason =
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad:\xff\xc3 "
      "overlong:\xc0\xaf surrogate:\xed\xa0\x80 ctl:\x01\x7f";
  const std::string json = report.Json();
  EXPECT_THAT(json, HasSubstr("\"reason\": \"caf\xc3\xa9 \xe2\x82\xac "
                              "\xf0\x9f\x98\x80 bad:\\ufffd\\ufffd "
                              "overlong:\\ufffd\\ufffd "
                              "surrogate:\\ufffd\\ufffd\\ufffd "
                              "ctl:\\u0001\\u007f\""));
}

TEST(CheckReport, JunitHasTimestampTimeAndOneLineMessages) {
  const std::string junit = AReport().Junit();
  EXPECT_THAT(junit, HasSubstr("timestamp=\"2025-12-05T12:00:00\" "
                               "time=\"1.500\""));
  EXPECT_THAT(junit, HasSubstr("<property name=\"contract_version\""));
  EXPECT_THAT(junit, HasSubstr("message=\"expected 00 00 00 05 saw end of "
                               "stream\""));
  EXPECT_THAT(junit, Not(HasSubstr("message=\"expected 00 00 00 05\n")));
  EXPECT_THAT(junit, HasSubstr(">expected 00 00 00 05\nsaw end of stream"));
}

// A FAILED case's server output is in every format, apart from its reason
// (the JUnit message stays one line).
TEST(CheckReport, EveryFormatShowsTheServerOutputOfAFailedCase) {
  CheckReport report = AReport();
  report.cells[0].result.server_output =
      "[stderr]\nTraceback: handler <error>\n";
  EXPECT_THAT(report.Matrix(),
              HasSubstr("the server's output during the case:\n[stderr]\n"
                        "Traceback: handler <error>\n"));
  EXPECT_THAT(report.Json(),
              HasSubstr("\"server_output\": \"[stderr]\\nTraceback: "
                        "handler <error>\\n\""));
  const std::string junit = report.Junit();
  EXPECT_THAT(junit, HasSubstr("Traceback: handler &lt;error&gt;\n</failure>"));
  EXPECT_THAT(junit, Not(HasSubstr("message=\"[stderr]")));
  EXPECT_THAT(report.Html(),
              HasSubstr("<pre class=\"output\">[stderr]\nTraceback: handler "
                        "&lt;error&gt;\n</pre>"));
}

// The wire log shows bytes: a frame with its length prefix decoded, and
// anything else in hex, bounded.
TEST(WireLog, ShowsTheBytesAndDecodesTheLengthPrefix) {
  EXPECT_EQ(
      internal::WireLine(">", Bytes{0, 0, 0, 6, 'E', 'h', 'e', 'l', 'l', 'o'}),
      "> frame, length 6 = 00 00 00 06: 6 bytes 'Ehello'");
  EXPECT_EQ(internal::WireLine("<", Bytes{5, 0, 0, 0, 'E'}),
            "< 5 bytes: 05 00 00 00 45");
  EXPECT_EQ(internal::Hex(Bytes(20, 0xab), 3), "ab ab ab ... (17 more)");
}

CaseResult Failed(std::string reason, std::string wire_log) {
  CaseResult result;
  result.verdict = Verdict::kFailed;
  result.reason = std::move(reason);
  result.wire_log = std::move(wire_log);
  return result;
}

// A case failing the same way on several transports is said once, naming
// them; the address each connected to does not make the failures differ.
TEST(CheckReport, TheSameFailureOnSeveralTransportsIsSaidOnce) {
  CheckReport report = AReport();
  report.cells.clear();
  for (ContractTransport t :
       {ContractTransport::kUnix, ContractTransport::kTcp4}) {
    report.cells.push_back(
        {"1.1", t,
         Failed("expected a reply frame; saw end of stream",
                absl::StrCat("connected to ", ContractTransportName(t),
                             "\n> 1 bytes: 00\n"))});
  }
  const std::string text = report.Matrix();
  EXPECT_THAT(text, HasSubstr("FAILED 1.1 echo/small on unix, tcp4: expected "
                              "a reply frame; saw end of stream\nwire log "
                              "(unix):\nconnected to unix\n"));
  EXPECT_THAT(text, Not(HasSubstr("on tcp4:")));
  // A different wire log is a different failure.
  report.cells[1].result.wire_log = "connected to tcp4\n> 2 bytes: 00 00\n";
  EXPECT_THAT(report.Matrix(), HasSubstr("FAILED 1.1 echo/small on tcp4:"));
}

// Patterns that explain many FAILED cells are said above the list.
TEST(CheckReport, LikelyCausesAreSaidAboveTheFailures) {
  CheckReport report = AReport();
  report.cells.clear();
  for (const char* id : {"1.1", "1.2", "1.3"}) {
    report.cells.push_back(
        {id, ContractTransport::kUnix,
         Failed("expected a reply frame; saw end of stream",
                "> frame, length 5 = 00 00 00 05: 5 bytes 'Ehello'\n< no "
                "reply frame: end of stream\n")});
  }
  // Also when some cells failed otherwise (a send refused, a reset).
  report.cells.push_back(
      {"1.4", ContractTransport::kUnix,
       Failed("expected to send the request; saw EPIPE", "> 1 bytes: 00\n")});
  EXPECT_THAT(report.Matrix(),
              HasSubstr("Likely cause: no case got a reply frame"));
  // One reply anywhere, and the pattern is not that one; the same cases
  // passing on another transport is.
  CaseResult ok;
  ok.wire_log = "< frame, length 2 = 00 00 00 02: 2 bytes 'N1'\n";
  for (const char* id : {"1.1", "1.2", "1.3"})
    report.cells.push_back({id, ContractTransport::kTcp4, ok});
  const std::string text = report.Matrix();
  EXPECT_THAT(text, Not(HasSubstr("no case got a reply frame")));
  EXPECT_THAT(text, HasSubstr("Likely cause: every FAILED is on unix; the "
                              "same cases pass on tcp4"));
}

// Each FAILED block says how to play that cell again, with the run's seed
// and perturbation, the server command quoted for a shell.
TEST(CheckReport, AFailureSaysHowToPlayItAgain) {
  CheckReport report = AReport();
  report.perturb = {"eintr", "short-io"};
  report.provenance.command = {"./server", "it's here", "--flag"};
  EXPECT_THAT(report.Matrix(),
              HasSubstr("again: sockparity check --cases 1.1 --transport unix "
                        "--seed 7 --perturb eintr,short-io -- ./server "
                        "'it'\\''s here' --flag\n"));
}

// A server that wrote during most of its failures: its last line is quoted
// above the list.
TEST(CheckReport, LikelyCauseQuotesTheServerWhenItSpoke) {
  CheckReport report = AReport();
  report.cells.clear();
  for (const char* id : {"1.2", "1.3", "1.4"}) {
    CaseResult failed =
        Failed("expected a reply frame; saw end of stream",
               "< frame, length 1 = 00 00 00 01: 1 bytes 'E'\n");
    failed.server_output =
        "[stderr]\nTraceback (most recent call last):\n  File \"srv.py\"\n"
        "RuntimeError: handler bug\n";
    report.cells.push_back({id, ContractTransport::kUnix, failed});
  }
  EXPECT_THAT(report.Matrix(),
              HasSubstr("Likely cause: the server wrote to its output during 3 "
                        "of the 3 FAILED cases (an error in its handler?); the "
                        "last line it wrote during 1.2 on unix: RuntimeError: "
                        "handler bug\n"));
}

// The widest table there is: the longest name, every transport, the widest
// verdict in every column. Each of its lines fits 100 columns.
TEST(CheckReport, TheTableFitsOneHundredColumns) {
  CheckReport report;
  CaseInfo info;
  info.id = "10.12";
  info.name = "half-close/large-reply-after-a-very-long-pause-indeed";
  report.cases.push_back(info);
  CaseResult weak;
  weak.verdict = Verdict::kNonStrict;
  for (ContractTransport kind : kAllContractTransports)
    report.cells.push_back({info.id, kind, weak});
  report.cross.push_back({info.id, weak});
  const std::string text = report.Matrix();
  for (absl::string_view line : absl::StrSplit(text, '\n'))
    EXPECT_LE(line.size(), 100u) << line;
  EXPECT_THAT(text, HasSubstr("10.12 half-close/large-reply"));
  EXPECT_THAT(text, HasSubstr("abstract"));
  EXPECT_THAT(text, HasSubstr("(abstract: unix-abstract)"));
}

TEST(CheckReport, HtmlSaysWhereItsVerdictsComeFrom) {
  const std::string html = AReport().Html();
  EXPECT_THAT(html, HasSubstr("sockparity 9.8.7, peer contract"));
  EXPECT_THAT(html, HasSubstr("<code>./server --flag</code>"));
  EXPECT_THAT(html, HasSubstr("Linux 6.1.0 x86_64"));
}

// Every verdict has its colour from the one table, in kAllVerdicts'
// order, and the page styles each verdict's cells with it.
TEST(CheckReport, HtmlColoursEachVerdictFromTheOneTable) {
  ASSERT_EQ(std::size(kVerdictColours), kAllVerdicts.size());
  for (size_t i = 0; i < kAllVerdicts.size(); ++i) {
    EXPECT_EQ(kVerdictColours[i].verdict, VerdictName(kAllVerdicts[i]));
  }
  const std::string html = AReport().Html();
  EXPECT_THAT(html, HasSubstr(absl::StrCat("td.FAILED{background:",
                                           kVerdictColours[5].colour, "}")));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("td.n\\/a{background:",
                                           kVerdictColours[3].colour, "}")));
}

// --list is a dry run of the filters, and its JSON lists what they select.
TEST(CheckCatalog, SelectCasesIsTheFiltersDryRun) {
  const std::vector<CaseInfo> group = SelectCases({"7"}, {"7.6"});
  ASSERT_EQ(group.size(), 5u);
  EXPECT_EQ(group.front().id, "7.1");
  EXPECT_EQ(group.back().id, "7.5");
  EXPECT_EQ(SelectCases({"bad-input"}, {}).size(), 6u);
  EXPECT_TRUE(SelectCases({"no-such-case"}, {}).empty());
  const std::string json = CatalogJson(SelectCases({"7.1"}, {}));
  EXPECT_THAT(json, HasSubstr("{\"id\": \"7.1\", \"name\": "
                              "\"bad-input/zero-length\""));
  EXPECT_THAT(json, Not(HasSubstr("\"7.2\"")));
}

}  // namespace
}  // namespace sockparity
