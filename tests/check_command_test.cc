// `sockparity check` before any verdict: usage errors, servers that cannot
// be started, reports that cannot be written, and the catalog listing.
// Each is an exit status and one message naming what was wrong (there is
// no report to read); the test names the message's key facts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "command_run.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity {
namespace {

using ::testing::HasSubstr;

struct Refused {
  std::string name;
  std::vector<std::string> args;  // after "check"
  int exit_status;
  std::vector<std::string> facts;  // each somewhere in the output
  std::vector<std::string> env = {};
  bool one_line = false;  // the whole output is one line
};
void PrintTo(const Refused& refused, std::ostream* out) {
  *out << refused.name;
}

class CheckRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(CheckRefuses, WithAnExitStatusAndAMessage) {
  const Refused& refused = GetParam();
  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  std::vector<std::string> args = {SOCKPARITY_TOOL, "check"};
  args.insert(args.end(), refused.args.begin(), refused.args.end());
  const testing::Outcome run =
      testing::RunCommand(args, dir->path() + "/output", {}, refused.env);
  EXPECT_EQ(run.exit_status, refused.exit_status) << run.output;
  for (const std::string& fact : refused.facts) {
    EXPECT_THAT(run.output, HasSubstr(fact));
  }
  if (refused.one_line) {
    EXPECT_THAT(run.output, ::testing::StartsWith("sockparity check: "));
    EXPECT_EQ(run.output.find('\n'), run.output.size() - 1) << run.output;
  }
}

const std::string kReference = SOCKPARITY_REFERENCE_SERVER;

const std::vector<Refused>& RefusedRuns() {
  static const auto* const kRefused = new std::vector<Refused>{
      {"unknown_case_filter",
       {"--cases", "99.*", "--", kReference},
       3,
       {"match no case"}},
      {"missing_server_command", {}, 2, {"missing the server command"}},
      // A TMPDIR too long for a UNIX socket path is a usage error naming
      // TMPDIR, not the server's failure.
      {"tmpdir_too_long_for_a_socket_path",
       {"--cases", "1.1", "--", kReference},
       2,
       {"TMPDIR '/tmp/a-temporary-directory-whose-name", "is too long"},
       {"TMPDIR=/tmp/a-temporary-directory-whose-name-is-far-too-long-for-"
        "any-unix-socket-path-to-fit-in-108-bytes"}},
      // A report that cannot be written whole is its own exit status; a
      // report path that cannot be written at all is a usage error before
      // any case.
      {"report_lost_on_a_full_disk",
       {"--cases", "1.1", "--transport", "unix", "--json", "/dev/full", "--",
        kReference},
       6,
       {"cannot write the report '/dev/full' whole"}},
      {"unwritable_report_path_before_any_case",
       {"--junit", "/nonexistent-dir/r.xml", "--", kReference},
       2,
       {"--junit '/nonexistent-dir/r.xml' cannot be written"}},
      // A server that cannot be started is one line and exit 2.
      {"server_that_cannot_start",
       {"--", "/nonexistent/server"},
       2,
       {"cannot run /nonexistent/server: ENOENT"},
       {},
       true},
      // The likeliest first mistakes: no "--", and a name execvp looks up
      // in PATH only.
      {"server_command_without_dashes",
       {"my-server"},
       2,
       {"my-server; put '--' before the server command"}},
      {"bare_server_name_is_looked_up_in_path",
       {"--", "no-such-server-here"},
       2,
       {"cannot run no-such-server-here: ENOENT", "looked for in PATH only"}},
      // A form declined (exit 64) is neutral: declining fd: and hanging on
      // the rest is a server that cannot be started.
      {"server_that_declines_fd_and_hangs_elsewhere",
       {"--transport", "fd,unix,tcp4", "--", SOCKPARITY_DECLINES_FD_SERVER},
       2,
       {"cannot be started: on every address form tried (unix, tcp4; it "
        "declined fd with exit status 64)",
        "did not print 'ready'"}},
      // The likeliest first mistake of all: 'ready' left in a buffer.
      {"ready_left_in_a_stdout_buffer",
       {"--transport", "unix", "--", SOCKPARITY_BROKEN_SERVER, "--bug",
        "ready-unflushed"},
       2,
       {"printed 'ready' only when it was stopped",
        "the line sat in its standard output buffer"}},
      {"server_that_serves_nothing",
       {"--", "sh", "-c", "exit 64", "sh"},
       2,
       {"sh serves no address form: it exited with status 64",
        "required by the contract"},
       {},
       true},
      {"server_that_fails_the_same_everywhere",
       {"--", "sh", "-c", "echo no config >&2 && exit 3", "sh"},
       2,
       {"sh cannot be started: on every address form tried", "exit status 3",
        "its output:\n[stderr]\nno config"}},
      {"no_case_could_run",
       {"--transport", "unix-abstract", "--", "sh", "-c", "exit 64", "sh"},
       4,
       {"no case could run on any transport:\n  unix-abstract: sh does not "
        "serve"}},
      {"unknown_perturbation_mode",
       {"--perturb", "short-io,slow", "--", kReference},
       2,
       {"unknown perturbation mode 'slow'"}},
      {"perturbation_library_missing",
       {"--perturb", "eintr", "--", kReference},
       2,
       {"SOCKPARITY_PERTURB_LIBRARY names '/nonexistent.so', which cannot be "
        "read"},
       {"SOCKPARITY_PERTURB_LIBRARY=/nonexistent.so"}},
      {"list_with_a_space",
       {"--transport", "unix", "tcp4", "--", "true"},
       2,
       {"--transport takes one list, comma-separated: --transport unix,tcp4"}},
  };
  return *kRefused;
}

INSTANTIATE_TEST_SUITE_P(Usage, CheckRefuses,
                         ::testing::ValuesIn(RefusedRuns()),
                         [](const ::testing::TestParamInfo<Refused>& info) {
                           return info.param.name;
                         });

// `check --list`: a header line ("# id<TAB>name...") and one row per case,
// tab-separated, in the catalog's order. Each row by its header's names.
using Row = std::map<std::string, std::string>;
std::vector<Row> ListRows(std::vector<std::string> args) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) return {};
  std::vector<std::string> argv = {SOCKPARITY_TOOL, "check", "--list"};
  argv.insert(argv.end(), args.begin(), args.end());
  const testing::Outcome run =
      testing::RunCommand(argv, dir->path() + "/output");
  EXPECT_EQ(run.exit_status, 0) << run.output;
  std::vector<std::string> header;
  std::vector<Row> rows;
  for (absl::string_view line : absl::StrSplit(run.output, '\n')) {
    if (absl::ConsumePrefix(&line, "# ")) {
      header = absl::StrSplit(line, '\t');
      continue;
    }
    if (line.empty()) continue;
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    EXPECT_EQ(fields.size(), header.size()) << line;
    Row row;
    for (size_t k = 0; k < fields.size() && k < header.size(); ++k) {
      row[header[k]] = fields[k];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

TEST(CheckList, ListsTheCatalogWithTheRecordBehindEachCase) {
  std::map<std::string, Row> by_id;
  for (Row& row : ListRows({})) by_id[row["id"]] = row;
  EXPECT_EQ(by_id["8.3"]["name"], "concurrency/1000-cycles");
  EXPECT_EQ(by_id["10.1"]["name"], "name/exact");
  EXPECT_EQ(by_id["10.1"]["reference"],
            "https://github.com/libuv/libuv/issues/4266");
  EXPECT_EQ(by_id["10.1"]["MUST or SHOULD"], "MUST");
  EXPECT_EQ(by_id["10.3"]["reference"],
            "https://github.com/python/cpython/issues/121252");
  EXPECT_EQ(by_id["10.3"]["MUST or SHOULD"], "SHOULD");
  EXPECT_EQ(by_id["11.2"]["name"], "release/reset");
  EXPECT_EQ(by_id["12.1"]["name"], "descriptors/exhaustion");
  EXPECT_EQ(by_id["13.1"]["name"], "memory/unread-replies");
  // Where each can run (elsewhere N/A): what ctest registration reads.
  EXPECT_EQ(by_id["1.1"]["transports"], "fd,unix,unix-abstract,tcp4,tcp6");
  EXPECT_EQ(by_id["8.3"]["transports"], "unix,unix-abstract,tcp4,tcp6");
  EXPECT_EQ(by_id["10.1"]["transports"], "unix,unix-abstract");
  EXPECT_EQ(by_id["10.3"]["transports"], "unix");
}

TEST(CheckList, ListsWhatTheFiltersSelect) {
  std::vector<std::string> ids;
  for (Row& row : ListRows({"--cases", "7", "--exclude", "7.4,7.5,7.6"})) {
    ids.push_back(row["id"]);
  }
  EXPECT_THAT(ids, ::testing::ElementsAre("7.1", "7.2", "7.3"));
}

// '-' is standard output, which the report then has to itself: the
// catalog's JSON alone, or a run's JSON with the table on standard error.
TEST(CheckReportPath, DashIsStandardOutput) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string out = dir->path() + "/stdout";
  const std::string err = dir->path() + "/stderr";
  testing::Outcome list = testing::RunCommand(
      {SOCKPARITY_TOOL, "check", "--list", "--cases", "7", "--json", "-"}, out,
      {}, {}, err);
  EXPECT_EQ(list.exit_status, 0) << testing::ReadWhole(err);
  const nlohmann::json catalog =
      nlohmann::json::parse(list.output, nullptr,
                            /*allow_exceptions=*/false);
  ASSERT_FALSE(catalog.is_discarded()) << list.output;
  EXPECT_THAT(list.output, ::testing::HasSubstr("\"7.1\""));

  testing::Outcome run = testing::RunCommand(
      {SOCKPARITY_TOOL, "check", "--cases", "1.1", "--transport", "unix",
       "--json", "-", "--", SOCKPARITY_REFERENCE_SERVER},
      out, {}, {}, err);
  EXPECT_EQ(run.exit_status, 0) << testing::ReadWhole(err);
  const nlohmann::json report =
      nlohmann::json::parse(run.output, nullptr,
                            /*allow_exceptions=*/false);
  ASSERT_FALSE(report.is_discarded()) << run.output;
  EXPECT_EQ(report["totals"]["OK"], 1);
  EXPECT_THAT(testing::ReadWhole(err), ::testing::HasSubstr("echo/small"));

  testing::Outcome two =
      testing::RunCommand({SOCKPARITY_TOOL, "check", "--json", "-", "--junit",
                           "-", "--", SOCKPARITY_REFERENCE_SERVER},
                          out, {}, {}, err);
  EXPECT_EQ(two.exit_status, 2);
  EXPECT_THAT(
      testing::ReadWhole(err),
      ::testing::HasSubstr("only one report can go to standard output"));
}

}  // namespace
}  // namespace sockparity
