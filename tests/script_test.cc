// The script text form: every corpus script and every verb round trips, and
// bad text is refused with its line and column.
#include "sockparity/script/script.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;

TEST(ScriptTextTest, CorpusScriptsRoundTrip) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           absl::StrCat(SOCKPARITY_CORPUS_DIR, "/scripts"))) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    SP_ASSERT_OK_AND_ASSIGN(Script script, ParseScript(text.str()));
    SP_ASSERT_OK_AND_ASSIGN(Script again, ParseScript(FormatScript(script)));
    EXPECT_EQ(FormatScript(again), FormatScript(script)) << entry.path();
    EXPECT_FALSE(script.steps.empty()) << entry.path();
    ++count;
  }
  EXPECT_GE(count, 20);
}

TEST(ScriptTextTest, EveryVerbRoundTrips) {
  const std::string text =
      "a pair b\na send 5\na fill\nb recv 3\nb recv-exactly 2\n"
      "b recv-until-eof\nb recv-waitall 4\nb peek 1\nb drain\na send-fd\n"
      "b recv-fd\na shutdown rd\na shutdown wr\na shutdown rdwr\na close\n"
      "b abort\nc pair d\nc poll\nc nonblock\nc so-error\nc peercred\nc "
      "sndbuf\n"
      "c rcvbuf\nc nodelay\nc tcp-state\nc sockname\nc peername\nl bind\n"
      "l listen 4\nl listen 4 reuseaddr\nm bind-same l\nm bind-same l "
      "reuseaddr\n"
      "m bind-path-length 108\nc connect l\nc connect-nb l\nc connect-missing\n"
      "c connect-as-nobody l\ns accept l\nl stat\n";
  SP_ASSERT_OK_AND_ASSIGN(Script script, ParseScript(text));
  EXPECT_EQ(FormatScript(script), text);
  EXPECT_EQ(script.steps.size(), 39u);
}

TEST(ScriptTextTest, CommentsAndBlankLinesAreIgnored) {
  SP_ASSERT_OK_AND_ASSIGN(
      Script script,
      ParseScript("# a comment\n\n  a pair b   # trailing\n\t\n"));
  ASSERT_EQ(script.steps.size(), 1u);
  EXPECT_EQ(script.steps[0].line, 3);
  EXPECT_EQ(FormatStep(script.steps[0]), "a pair b");
}

struct BadText {
  std::string text;
  std::string where;
  std::string what;
};

TEST(ScriptTextTest, BadTextNamesLineAndColumn) {
  for (const BadText& bad : std::vector<BadText>{
           {"a pair b\na sned 5\n", "line 2, column 3", "unknown verb 'sned'"},
           {"a send\n", "line 1, column 7", "'send' needs a number"},
           {"a send -1\n", "line 1, column 8", "not a number"},
           {"a send 99999999999\n", "line 1, column 8", "not a number"},
           {"a send 5 6\n", "line 1, column 10", "unexpected '6'"},
           {"1a close\n", "line 1, column 1", "not a socket name"},
           {"a\n", "line 1, column 2", "missing verb"},
           {"a shutdown both\n", "line 1, column 12",
            "expected rd, wr or rdwr"},
           {"a pair a\n", "line 1, column 8", "its own socket"},
           {"m bind-same l again\n", "line 1, column 15",
            "expected 'reuseaddr'"},
           {"a pair b\n\n  a\x01send 1\n", "line 3, column 4",
            "control character"},
           // Names no earlier step made: a mistyped socket.
           {"a pair b\nc send 1\n", "line 2, column 1", "no socket 'c' yet"},
           {"l listen 4\nc connect m\n", "line 2, column 11",
            "no socket 'm' yet"},
           // Assertions.
           {"a pair b = tcp5: ok\n", "line 1, column 12",
            "unknown kind 'tcp5'"},
           {"a pair b = tcp: ok\n", "line 1, column 19",
            "no outcome for socketpair"},
           {"a pair b = ok; tcp: \n", "line 1, column 16", "empty outcome"},
           {"a pair b =\n", "line 1, column 11", "empty outcome"},
           {"a pair b = ok; eof\n", "line 1, column 16",
            "a second outcome for every other kind"},
           {"a pair b = local: ok; tcp4: ok; tcp6,unix: ok\n",
            "line 1, column 38", "unix has two outcomes"},
           {"a pair b = x; local: ok; tcp: ok\n", "line 1, column 12",
            "is for no kind"},
       }) {
    absl::StatusOr<Script> script = ParseScript(bad.text);
    ASSERT_FALSE(script.ok()) << bad.text;
    EXPECT_THAT(script.status(), HasCode(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(script.status().message(), HasSubstr(bad.where)) << bad.text;
    EXPECT_THAT(script.status().message(), HasSubstr(bad.what)) << bad.text;
  }
}

TEST(ScriptTextTest, AssertionsParseAndRoundTrip) {
  SP_ASSERT_OK_AND_ASSIGN(
      Script script,
      ParseScript("a pair b = ok  # made\n"
                  "b recv 10 = eof; tcp4,tcp6: ECONNRESET\n"
                  "a sockname = socketpair: unnamed; unix: path:pair; "
                  "unix-abstract:   abstract:pair ; tcp: loopback:pair\n"
                  "a peercred = local: pid=self uid=self gid=self; tcp: *\n"));
  ASSERT_EQ(script.steps.size(), 4u);
  ASSERT_TRUE(script.steps[0].expect.has_value());
  EXPECT_EQ(script.steps[0].expect->For(TransportKind::kTcp6), "ok");
  EXPECT_EQ(script.steps[1].expect->For(TransportKind::kUnixPath), "eof");
  EXPECT_EQ(script.steps[1].expect->For(TransportKind::kTcp4), "ECONNRESET");
  EXPECT_EQ(script.steps[2].expect->For(TransportKind::kUnixAbstract),
            "abstract:pair");
  EXPECT_TRUE(script.steps[3].expect->Accepts(TransportKind::kTcp4,
                                              "pid=0 uid=1 gid=1"));
  EXPECT_FALSE(script.steps[3].expect->Accepts(TransportKind::kUnixPath,
                                               "pid=0 uid=1 gid=1"));
  EXPECT_EQ(FormatStep(script.steps[1]), "b recv 10");
  EXPECT_EQ(FormatScript(script),
            "a pair b = ok\n"
            "b recv 10 = local: eof; tcp: ECONNRESET\n"
            "a sockname = socketpair: unnamed; unix: path:pair; "
            "unix-abstract: abstract:pair; tcp: loopback:pair\n"
            "a peercred = local: pid=self uid=self gid=self; tcp: *\n");
  SP_ASSERT_OK_AND_ASSIGN(Script again, ParseScript(FormatScript(script)));
  EXPECT_EQ(FormatScript(again), FormatScript(script));
}

// An outcome that reads like a kind list keeps its kinds when formatted.
TEST(ScriptTextTest, OutcomeLikeAKindListRoundTrips) {
  for (absl::string_view text : {"a pair b = local,tcp: tcp: x\n",
                                 "a pair b = x = y\n"}) {
    SP_ASSERT_OK_AND_ASSIGN(Script script, ParseScript(text));
    EXPECT_EQ(FormatScript(script), text);
  }
}

TEST(ScriptTextTest, HelpNamesEveryVerb) {
  const std::string help = ScriptSyntaxHelp();
  for (absl::string_view verb :
       {"recv-until-eof", "connect-as-nobody", "bind-same"}) {
    EXPECT_THAT(help, HasSubstr(verb));
  }
}

}  // namespace
}  // namespace sockparity::testing
