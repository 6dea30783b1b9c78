// Running the sockparity command from a test: its exit status, what it
// printed, its peak memory and time, and the JSON report `check` wrote.
// The check's verdicts are asserted on the report, never on its text.
#ifndef SOCKPARITY_TESTS_COMMAND_RUN_H_
#define SOCKPARITY_TESTS_COMMAND_RUN_H_

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sockparity/net/temp_dir.h"

namespace sockparity::testing {

struct Outcome {
  int exit_status = -1;
  long peak_rss_kib = 0;
  absl::Duration took;
  std::string output;  // stdout and stderr together
};

inline std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `args` (argv[0] a path) with `env` added to the environment and
// the `closed` standard descriptors closed; its output goes to `log`, and
// its standard error to `error_log` instead, if one is named.
inline Outcome RunCommand(std::vector<std::string> args, const std::string& log,
                          std::vector<int> closed = {},
                          std::vector<std::string> env = {},
                          const std::string& error_log = "") {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const absl::Time start = absl::Now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::close(out);
    if (!error_log.empty()) {
      const int err =
          ::open(error_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(err, 2);
      ::close(err);
    }
    for (int fd : closed) ::close(fd);
    for (std::string& setting : env) ::putenv(setting.data());
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Outcome run;
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  run.took = absl::Now() - start;
  run.exit_status =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.peak_rss_kib = usage.ru_maxrss;
  run.output = ReadWhole(log);
  return run;
}

// A `check` run and the report it wrote (null if it wrote none).
struct CheckRun {
  Outcome outcome;
  nlohmann::json report;

  // The result of one case on one transport ("across" included), or null.
  const nlohmann::json* Result(const std::string& id,
                               const std::string& transport) const {
    if (!report.is_object()) return nullptr;
    for (const nlohmann::json& result : report["results"]) {
      if (result["case"] == id && result["transport"] == transport) {
        return &result;
      }
    }
    return nullptr;
  }
  std::string Verdict(const std::string& id,
                      const std::string& transport) const {
    const nlohmann::json* result = Result(id, transport);
    return result == nullptr ? "(no result)"
                             : result->at("verdict").get<std::string>();
  }
  std::string Reason(const std::string& id,
                     const std::string& transport) const {
    const nlohmann::json* result = Result(id, transport);
    return result == nullptr ? "" : result->at("reason").get<std::string>();
  }
  std::string ServerOutput(const std::string& id,
                           const std::string& transport) const {
    const nlohmann::json* result = Result(id, transport);
    return result == nullptr ? ""
                             : result->value("server_output", std::string());
  }
  int Total(const std::string& verdict) const {
    if (!report.is_object()) return -1;
    return report["totals"].value(verdict, -1);
  }
  // "1.2 on unix" for every FAILED result: what a failing test prints.
  std::string Failed() const {
    std::string failed;
    if (!report.is_object()) return failed;
    for (const nlohmann::json& result : report["results"]) {
      if (result["verdict"] != "FAILED") continue;
      absl::StrAppend(&failed, result["case"].get<std::string>(), " on ",
                      result["transport"].get<std::string>(), ": ",
                      result["reason"].get<std::string>(), "\n");
    }
    return failed;
  }
};

// `tool check --json DIR/report.json ARGS...`; `args` hold "--" and the
// server's command.
inline CheckRun RunCheck(const std::string& tool, const std::string& dir,
                         std::vector<std::string> args,
                         std::vector<std::string> env = {},
                         const std::string& command = "check") {
  const std::string json = dir + "/report.json";
  ::unlink(json.c_str());
  std::vector<std::string> argv = {tool, command, "--json", json};
  argv.insert(argv.end(), args.begin(), args.end());
  CheckRun run;
  run.outcome = RunCommand(argv, dir + "/output", {}, std::move(env));
  const std::string text = ReadWhole(json);
  if (!text.empty()) run.report = nlohmann::json::parse(text);
  return run;
}

// `tool check-client --json DIR/report.json ARGS...`; `args` hold "--" and
// the client's command.
inline CheckRun CheckClient(const std::string& tool, const std::string& dir,
                            std::vector<std::string> args,
                            std::vector<std::string> env = {}) {
  return RunCheck(tool, dir, std::move(args), std::move(env), "check-client");
}

#ifdef SOCKPARITY_TOOL
// A test that runs `check` (SOCKPARITY_TOOL) in a temporary directory of
// its own.
class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
  }
  CheckRun Check(std::vector<std::string> args,
                 std::vector<std::string> env = {}) {
    return RunCheck(SOCKPARITY_TOOL, dir_->path(), std::move(args),
                    std::move(env));
  }
  std::optional<TempDir> dir_;
};

#endif  // SOCKPARITY_TOOL

}  // namespace sockparity::testing

#endif  // SOCKPARITY_TESTS_COMMAND_RUN_H_
