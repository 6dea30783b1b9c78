#include "sockparity/script/script.h"

#include <array>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "script/expectation.h"
#include "script/verbs.h"

namespace sockparity {
namespace {

using internal::Args;
using VerbSpec = internal::VerbDescriptor;

const VerbSpec& SpecOf(Verb verb) { return internal::Describe(verb); }

bool IsSlotName(absl::string_view word) {
  if (word.empty() || word.size() > 16 || !absl::ascii_isalpha(word[0])) {
    return false;
  }
  for (char c : word) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// The largest N a step takes: room for tests, not for exhausting memory.
constexpr int64_t kMaxNumber = int64_t{64} << 20;

struct Word {
  absl::string_view text;
  int column;  // 1-based
};

std::vector<Word> SplitWords(absl::string_view line) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && absl::ascii_isspace(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !absl::ascii_isspace(line[i])) ++i;
    if (i > start) {
      words.push_back(
          {line.substr(start, i - start), static_cast<int>(start) + 1});
    }
  }
  return words;
}

}  // namespace

absl::string_view VerbName(Verb verb) { return SpecOf(verb).name; }

bool VerbFromName(absl::string_view name, Verb* verb) {
  for (const VerbSpec& spec : internal::VerbTable()) {
    if (spec.name == name) {
      *verb = spec.verb;
      return true;
    }
  }
  return false;
}

std::string FormatStep(const Step& step) {
  std::string line = absl::StrCat(step.slot, " ", VerbName(step.verb));
  switch (SpecOf(step.verb).args) {
    case Args::kNone:
      break;
    case Args::kNumber:
      absl::StrAppend(&line, " ", step.number);
      break;
    case Args::kNumberReuse:
      absl::StrAppend(&line, " ", step.number);
      if (!step.keyword.empty()) absl::StrAppend(&line, " ", step.keyword);
      break;
    case Args::kSlot:
      absl::StrAppend(&line, " ", step.target);
      break;
    case Args::kShutHow:
      absl::StrAppend(&line, " ", step.keyword);
      break;
    case Args::kSlotReuse:
      absl::StrAppend(&line, " ", step.target);
      if (!step.keyword.empty()) absl::StrAppend(&line, " ", step.keyword);
      break;
  }
  return line;
}

std::string FormatScript(const Script& script) {
  std::string text;
  for (const Step& step : script.steps) {
    absl::StrAppend(&text, FormatStep(step));
    if (step.expect) {
      absl::StrAppend(&text, " = ", FormatExpectation(*step.expect));
    }
    absl::StrAppend(&text, "\n");
  }
  return text;
}

absl::StatusOr<Script> ParseScript(absl::string_view text) {
  Script script;
  // The sockets made so far: a step on any other is a mistyped name.
  std::set<std::string, std::less<>> made;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::string_view line = raw.substr(0, raw.find('#'));
    auto error = [&](int column, absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d, column %d: %s", line_number, column, what));
    };
    for (char c : line) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r') {
        return error(static_cast<int>(line.find(c)) + 1,
                     "control character in script text");
      }
    }
    std::vector<Word> words = SplitWords(line);
    if (words.empty()) continue;
    Step step;
    step.line = line_number;
    // "= ..." to the end of the line is the step's assertion.
    for (size_t i = 0; i < words.size(); ++i) {
      if (words[i].text != "=") continue;
      const size_t from = static_cast<size_t>(words[i].column);
      Expectation expect;
      internal::ExpectationError bad;
      if (!internal::ParseExpectation(line.substr(from), &expect, &bad)) {
        return error(static_cast<int>(from + bad.offset) + 1, bad.what);
      }
      if (i == 0) return error(words[0].column, "'=' before the step");
      step.expect = std::move(expect);
      words.resize(i);
      line = line.substr(0, from - 1);
      break;
    }
    if (!IsSlotName(words[0].text)) {
      return error(words[0].column,
                   absl::StrCat("'", absl::CHexEscape(words[0].text),
                                "' is not a socket name (a letter, then up "
                                "to 15 letters, digits or '_')"));
    }
    step.slot = std::string(words[0].text);
    if (words.size() < 2) {
      return error(words[0].column + static_cast<int>(words[0].text.size()),
                   "missing verb after the socket name");
    }
    const VerbSpec* spec = nullptr;
    for (const VerbSpec& candidate : internal::VerbTable()) {
      if (candidate.name == words[1].text) spec = &candidate;
    }
    if (spec == nullptr) {
      return error(
          words[1].column,
          absl::StrCat("unknown verb '", absl::CHexEscape(words[1].text),
                       "'; see 'sockparity replay --help'"));
    }
    step.verb = spec->verb;
    size_t max_words = 2;
    auto need = [&](size_t index, absl::string_view what) -> absl::Status {
      if (words.size() <= index) {
        return error(static_cast<int>(line.size()) + 1,
                     absl::StrCat("'", spec->name, "' needs ", what));
      }
      return absl::OkStatus();
    };
    // An optional "reuseaddr" as the fourth word.
    auto reuseaddr = [&]() -> absl::Status {
      if (words.size() <= 3) return absl::OkStatus();
      if (words[3].text != "reuseaddr") {
        return error(words[3].column,
                     absl::StrCat("expected 'reuseaddr' or nothing, not '",
                                  absl::CHexEscape(words[3].text), "'"));
      }
      step.keyword = "reuseaddr";
      max_words = 4;
      return absl::OkStatus();
    };
    switch (spec->args) {
      case Args::kNone:
        break;
      case Args::kNumber:
      case Args::kNumberReuse: {
        if (absl::Status s = need(2, "a number"); !s.ok()) return s;
        int64_t n = 0;
        if (!absl::SimpleAtoi(words[2].text, &n) || n < 0 || n > kMaxNumber ||
            !absl::ascii_isdigit(words[2].text[0])) {
          return error(
              words[2].column,
              absl::StrCat("'", absl::CHexEscape(words[2].text),
                           "' is not a number from 0 to ", kMaxNumber));
        }
        step.number = n;
        max_words = 3;
        if (spec->args == Args::kNumberReuse) {
          if (absl::Status s = reuseaddr(); !s.ok()) return s;
        }
        break;
      }
      case Args::kSlot:
      case Args::kSlotReuse: {
        if (absl::Status s = need(2, "a socket name"); !s.ok()) return s;
        if (!IsSlotName(words[2].text)) {
          return error(words[2].column,
                       absl::StrCat("'", absl::CHexEscape(words[2].text),
                                    "' is not a socket name"));
        }
        step.target = std::string(words[2].text);
        max_words = 3;
        if (spec->args == Args::kSlotReuse) {
          if (absl::Status s = reuseaddr(); !s.ok()) return s;
        }
        break;
      }
      case Args::kShutHow: {
        if (absl::Status s = need(2, "rd, wr or rdwr"); !s.ok()) return s;
        if (words[2].text != "rd" && words[2].text != "wr" &&
            words[2].text != "rdwr") {
          return error(words[2].column,
                       absl::StrCat("expected rd, wr or rdwr, not '",
                                    absl::CHexEscape(words[2].text), "'"));
        }
        step.keyword = std::string(words[2].text);
        max_words = 3;
        break;
      }
    }
    if (words.size() > max_words) {
      return error(
          words[max_words].column,
          absl::StrCat("unexpected '", absl::CHexEscape(words[max_words].text),
                       "' after '", spec->name, "'"));
    }
    if ((spec->args == Args::kSlot || spec->args == Args::kSlotReuse) &&
        step.target == step.slot) {
      return error(words[2].column, "a step cannot name its own socket here");
    }
    auto unmade = [&](const Word& word) {
      return error(word.column,
                   absl::StrCat("no socket '", word.text,
                                "' yet: no earlier step made it (pair, bind, "
                                "listen, bind-same, bind-path-length, "
                                "connect..., accept make sockets)"));
    };
    if (!spec->creates() && !made.contains(step.slot)) return unmade(words[0]);
    const bool has_target =
        spec->args == Args::kSlot || spec->args == Args::kSlotReuse;
    if (has_target && spec->verb != Verb::kPair &&
        !made.contains(step.target)) {
      return unmade(words[2]);
    }
    made.insert(step.slot);
    if (spec->verb == Verb::kPair) made.insert(step.target);
    script.steps.push_back(std::move(step));
  }
  return script;
}

namespace {

// The words a step's outcome is made of, beyond errno names: one source for
// `replay --help` and docs/SCRIPTS.md.
struct OutcomeWord {
  absl::string_view word;
  absl::string_view meaning;
};
constexpr OutcomeWord kOutcomeWords[] = {
    {"ok", "the call succeeded (or sent or read all it asked for)"},
    {"E...", "the call failed with that errno (EAGAIN, ECONNRESET, EPIPE...)"},
    {"eof", "a read returned 0: the end of the stream"},
    {"data", "a read returned bytes (how many is a detail, not compared)"},
    {"short", "a send or read did part of what it asked (recv-waitall)"},
    {"timeout", "a blocking call was still waiting when the step's wait ended"},
    {"n/a", "the step cannot apply on this kind (socketpair has no address)"},
    {"no-socket",
     "its socket was never made on this kind (the step that "
     "makes it failed there)"},
    {"closed", "the script closed or aborted that socket earlier"},
    {"busy", "a step that makes a socket named one that is already open"},
    {"IN|OUT|...", "poll's events, by name"},
    {"unnamed, path:l, abstract:l, loopback:l, loopback:ephemeral",
     "an address, named by the slot that owns it (l) or what it is"},
    {"fd, no-fd", "recv-fd got a descriptor, or none"},
};

absl::string_view ArgsText(Args args) {
  switch (args) {
    case Args::kNumber:
      return "N";
    case Args::kNumberReuse:
      return "N [reuseaddr]";
    case Args::kSlot:
      return "SOCKET";
    case Args::kShutHow:
      return "rd|wr|rdwr";
    case Args::kSlotReuse:
      return "SOCKET [reuseaddr]";
    case Args::kNone:
      return "";
  }
  return "";
}

constexpr char kScriptSyntax[] =
    "Script text: one step per line, SOCKET VERB [ARGS]; '#' starts a "
    "comment.\nSOCKET is a name (a, b, l, c...) an earlier step made.\n"
    "A step may end with '= OUTCOME', what every kind must give, or\n"
    "'= KINDS: OUTCOME; KINDS: OUTCOME', KINDS being names joined by ','\n"
    "(socketpair, unix, unix-abstract, tcp4, tcp6, local, tcp); a group\n"
    "without KINDS holds for the kinds not named, and a '*' in an outcome\n"
    "matches any text.\n";

constexpr char kWhatIsCompared[] =
    "Each step's outcome word is compared across the kinds; its details "
    "(byte counts, `--details`) are not. What each socket received is "
    "compared as one byte stream per socket (its length and digest), "
    "however the reads split it. A difference no registry entry allows "
    "(docs/DIFFERENCES.md) is a divergence: exit status 1.";

}  // namespace

namespace {

// Text for a Markdown table cell: a '|' would end the cell.
std::string Cell(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"|", "\\|"}});
}

}  // namespace

std::string ScriptReferenceMarkdown() {
  std::string doc =
      "# The script language of `sockparity replay`\n\n"
      "Generated by `sockparity replay --reference` from the verb table "
      "(`harness/script/verbs.cc`); `Docs.ScriptsIsCurrent` fails when it "
      "is not current.\n\n## Syntax\n\n";
  absl::StrAppend(&doc,
                  absl::StripTrailingAsciiWhitespace(
                      absl::StrReplaceAll(kScriptSyntax, {{"\n", " "}})),
                  "\n\nFor example:\n\n"
                  "    a pair b = ok\n    a send 5 = ok\n"
                  "    b recv 5 = ok\n    a close = ok\n"
                  "    b recv 1 = eof\n\n## Verbs\n\n"
                  "| verb | arguments | what it does |\n| --- | --- | --- |\n");
  for (const VerbSpec& spec : internal::VerbTable()) {
    const absl::string_view args = ArgsText(spec.args);
    absl::StrAppend(&doc, "| `", spec.name, "` | ",
                    args.empty() ? "" : absl::StrCat("`", Cell(args), "`"),
                    " | ", Cell(spec.help), " |\n");
  }
  absl::StrAppend(&doc, "\n## Outcomes\n\n| word | meaning |\n| --- | --- |\n");
  for (const OutcomeWord& word : kOutcomeWords)
    absl::StrAppend(&doc, "| `", Cell(word.word), "` | ", Cell(word.meaning),
                    " |\n");
  absl::StrAppend(&doc, "\n## What is compared\n\n", kWhatIsCompared, "\n");
  return doc;
}

std::string ScriptSyntaxHelp() {
  std::string help = absl::StrCat(kScriptSyntax, "Verbs:\n");
  for (const VerbSpec& spec : internal::VerbTable()) {
    const absl::string_view args = ArgsText(spec.args);
    absl::StrAppend(
        &help,
        absl::StrFormat("  %-36s %s\n",
                        args.empty() ? std::string(spec.name)
                                     : absl::StrCat(spec.name, " ", args),
                        spec.help));
  }
  absl::StrAppend(&help, "Outcomes, besides errno names:\n");
  for (const OutcomeWord& word : kOutcomeWords) {
    if (word.word == "E...") continue;
    absl::StrAppend(&help, "  ", word.word, ": ", word.meaning, "\n");
  }
  return help;
}

}  // namespace sockparity
