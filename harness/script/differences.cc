#include "sockparity/script/differences.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "script/entry_scopes.h"
#include "sockparity/script/glob.h"

namespace sockparity {

std::vector<std::string> Difference::Verbs() const {
  std::set<std::string> verbs;
  for (const KindBehaviour& row : behaviour) {
    for (const std::string& pattern : row.outcomes) {
      verbs.insert(pattern.substr(0, pattern.find(':')));
    }
  }
  return {verbs.begin(), verbs.end()};
}

const KindBehaviour* Difference::RowFor(TransportKind kind) const {
  for (const KindBehaviour& row : behaviour) {
    if (std::find(row.kinds.begin(), row.kinds.end(), kind) !=
        row.kinds.end()) {
      return &row;
    }
  }
  return nullptr;
}

bool Difference::Expects(TransportKind kind, absl::string_view verb,
                         absl::string_view outcome) const {
  const KindBehaviour* row = RowFor(kind);
  Verb typed;
  if (row == nullptr || !VerbFromName(verb, &typed)) return false;
  for (const std::string& pattern : row->outcomes) {
    const internal::CompiledPattern compiled =
        internal::CompiledPattern::Compile(pattern, ':');
    if (compiled.Matches(typed, outcome)) return true;
    // "+EVENT" / "-EVENT": the mask shows the event, or does not.
    if (compiled.verbs[static_cast<int>(typed)] && compiled.rest.size() > 1 &&
        (compiled.rest[0] == '+' || compiled.rest[0] == '-')) {
      const absl::string_view event =
          absl::string_view(compiled.rest).substr(1);
      bool shown = false;
      for (absl::string_view one : absl::StrSplit(outcome, '|')) {
        shown |= one == event;
      }
      if (shown == (compiled.rest[0] == '+')) return true;
    }
  }
  return false;
}

std::optional<Observation> Observation::Parse(absl::string_view text) {
  const size_t colon = text.find(':');
  Observation observation;
  if (colon == absl::string_view::npos ||
      !VerbFromName(text.substr(0, colon), &observation.verb)) {
    return std::nullopt;
  }
  observation.outcome = std::string(text.substr(colon + 1));
  return observation;
}

std::string Observation::ToString() const {
  return absl::StrCat(VerbName(verb), ":", outcome);
}

namespace internal {

CompiledPattern CompiledPattern::Compile(absl::string_view pattern,
                                         char separator) {
  const size_t split = pattern.find(separator);
  const absl::string_view verb_glob = pattern.substr(0, split);
  CompiledPattern compiled;
  for (int v = 0; v < kVerbCount; ++v) {
    compiled.verbs[v] = GlobMatch(verb_glob, VerbName(static_cast<Verb>(v)));
  }
  // An outcome pattern for poll is the readiness every level-triggered
  // wait reports: epoll's level mode shows the same events, and so does its
  // edge mode whenever it reports (ep_item_poll gives the whole current
  // mask; its first wait always reports).
  if (separator == ':' && verb_glob == "poll") {
    compiled.verbs[static_cast<int>(Verb::kEpollLevel)] = true;
    compiled.verbs[static_cast<int>(Verb::kEpollEdge)] = true;
  }
  if (split != absl::string_view::npos) {
    compiled.rest = std::string(pattern.substr(split + 1));
  }
  compiled.literal = compiled.rest.find_first_of("*?") == std::string::npos;
  return compiled;
}

bool CompiledPattern::Matches(Verb verb, absl::string_view rest_text) const {
  if (!verbs[static_cast<int>(verb)]) return false;
  return literal ? rest == rest_text : GlobMatch(rest, rest_text);
}

}  // namespace internal

namespace {

// "VERB [ARGS]" as a context step is written.
bool MatchesText(const internal::CompiledPattern& pattern,
                 absl::string_view text) {
  const size_t space = text.find(' ');
  Verb verb;
  if (!VerbFromName(text.substr(0, space), &verb)) return false;
  return internal::TriggerMatches(pattern, verb,
                                  space == absl::string_view::npos
                                      ? absl::string_view()
                                      : text.substr(space + 1));
}

bool RowMatches(const std::vector<internal::CompiledPattern>& row, Verb verb,
                absl::string_view outcome) {
  for (const internal::CompiledPattern& pattern : row) {
    if (pattern.Matches(verb, outcome)) return true;
  }
  return false;
}

}  // namespace

DifferenceRegistry::DifferenceRegistry(std::vector<Difference> entries)
    : entries_(std::move(entries)) {
  compiled_.reserve(entries_.size());
  for (const Difference& entry : entries_) {
    Compiled compiled;
    compiled.row.fill(-1);
    for (size_t r = 0; r < entry.behaviour.size(); ++r) {
      const KindBehaviour& row = entry.behaviour[r];
      for (TransportKind kind : row.kinds) {
        // The first row naming a kind is its row, as in RowFor.
        int& slot = compiled.row[static_cast<size_t>(kind)];
        if (slot < 0) slot = static_cast<int>(r);
      }
      compiled.rows.emplace_back();
      for (const std::string& pattern : row.outcomes) {
        compiled.rows.back().push_back(
            internal::CompiledPattern::Compile(pattern, ':'));
      }
    }
    for (const std::string& pattern : entry.after) {
      compiled.after.push_back(
          internal::CompiledPattern::Compile(pattern, ' '));
    }
    for (const std::string& pattern : entry.and_after) {
      compiled.and_after.push_back(
          internal::CompiledPattern::Compile(pattern, ' '));
    }
    compiled_.push_back(std::move(compiled));
  }
}

absl::StatusOr<DifferenceRegistry> DifferenceRegistry::Without(
    absl::Span<const std::string> ids) const {
  for (const std::string& id : ids) {
    if (Find(id) == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "no registry entry '", id, "'; 'sockparity differences' lists them"));
    }
  }
  std::vector<Difference> kept;
  for (const Difference& entry : entries_) {
    if (std::find(ids.begin(), ids.end(), entry.id) == ids.end()) {
      kept.push_back(entry);
    }
  }
  return DifferenceRegistry(std::move(kept));
}

const Difference* DifferenceRegistry::Find(absl::string_view id) const {
  for (const Difference& entry : entries_) {
    if (entry.id == id) return &entry;
  }
  return nullptr;
}

const Difference* DifferenceRegistry::AllowingAt(
    Verb verb, TransportKind kind_x, absl::string_view x, TransportKind kind_y,
    absl::string_view y,
    absl::FunctionRef<bool(size_t entry)> triggered) const {
  for (size_t e = 0; e < compiled_.size(); ++e) {
    const Compiled& entry = compiled_[e];
    const int row_x = entry.row[static_cast<size_t>(kind_x)];
    const int row_y = entry.row[static_cast<size_t>(kind_y)];
    // Kinds that the entry says behave alike may not differ through it.
    if (row_x == row_y || row_x < 0 || row_y < 0) continue;
    if (!triggered(e)) continue;
    if (RowMatches(entry.rows[row_x], verb, x) &&
        RowMatches(entry.rows[row_y], verb, y)) {
      return &entries_[e];
    }
  }
  return nullptr;
}

const Difference* DifferenceRegistry::AllowingEventAt(
    Verb verb, TransportKind kind_x, absl::string_view event, bool shown_by_x,
    TransportKind kind_y,
    absl::FunctionRef<bool(size_t entry)> triggered) const {
  const std::string shown = absl::StrCat("+", event);
  const std::string not_shown = absl::StrCat("-", event);
  return AllowingAt(verb, kind_x, shown_by_x ? shown : not_shown, kind_y,
                    shown_by_x ? not_shown : shown, triggered);
}

const Difference* DifferenceRegistry::Allowing(
    TransportKind kind_x, const Observation& x, TransportKind kind_y,
    const Observation& y, absl::Span<const std::string> context) const {
  if (x.verb != y.verb) return nullptr;
  return AllowingAt(
      x.verb, kind_x, x.outcome, kind_y, y.outcome, [&](size_t e) {
        auto seen =
            [&](const std::vector<internal::CompiledPattern>& patterns) {
              if (patterns.empty()) return true;
              for (const std::string& text : context) {
                for (const internal::CompiledPattern& pattern : patterns) {
                  if (MatchesText(pattern, text)) return true;
                }
              }
              return false;
            };
        return seen(compiled_[e].after) && seen(compiled_[e].and_after);
      });
}

namespace {

std::string KindList(const std::vector<TransportKind>& kinds) {
  std::vector<std::string> names;
  for (TransportKind kind : kinds) names.emplace_back(TransportName(kind));
  return absl::StrJoin(names, ", ");
}

}  // namespace

std::string DifferenceRegistry::Markdown() const {
  std::string out =
      "# Documented differences between transports\n\n"
      "Generated by `sockparity differences --markdown` from the registry in\n"
      "`harness/script/registry*.cc`; do not edit by hand. Each entry is the "
      "only\n"
      "way the traces of one script on two transport kinds may differ, and\n"
      "each is confirmed by the test `DifferenceConfirmation.Entry/<id>`,\n"
      "which replays the entry's witness script from `corpus/scripts/` on\n"
      "every kind. Outcomes are written `verb:outcome`.\n\n"
      "An entry with triggers (\"applies after a step\") explains only\n"
      "steps after a trigger step, and only on the sockets that step\n"
      "touched: its own, the other end of its connection, for a listener\n"
      "every connection made to it, for an accepted socket its listener\n"
      "(a step naming one of them, as `connect L` or `bind-same L`, counts).\n"
      "Triggers match by effect: `shutdown rdwr` is a `shutdown rd` and a\n"
      "`shutdown wr`, `abort` is a `close`. Received bytes may differ only\n"
      "on the sockets an entry that says so explained a step of.\n\n"
      "A step that sets up a socket (bind, listen, connect, accept) and\n"
      "that an entry allowed to succeed on one kind and fail on the other\n"
      "leaves that socket a different thing on the two: from then on the\n"
      "steps on it, or naming it, are that entry's consequence and are not\n"
      "compared between those two kinds (a connect or accept so allowed\n"
      "also changes the queue of the listener it names, and a bind-same\n"
      "so allowed what the address it names leads to). Every other\n"
      "socket, and every other pair of kinds, is still compared.\n\n"
      "In poll and epoll events, `PRI` (urgent data pending) shown by both\n"
      "kinds is set aside before the entries are asked: it belongs to the\n"
      "stream, not to the connection states they describe. Two masks\n"
      "that no entry allows as wholes are compared event by event: each\n"
      "event shown by one kind only must be explained by an entry whose\n"
      "rows say so (`poll:+HUP` on one kind, `poll:-HUP` on the other),\n"
      "so two independent differences at one step (a peer's shutdown and a\n"
      "pending error) need no entry for their combination.\n\n";
  absl::StrAppend(&out, "| id | statement |\n| --- | --- |\n");
  for (const Difference& entry : entries_) {
    absl::StrAppend(&out, "| [`", entry.id, "`](#", entry.id, ") | ",
                    entry.statement, " |\n");
  }
  for (const Difference& entry : entries_) {
    absl::StrAppend(&out, "\n## ", entry.id, "\n\n", entry.statement, "\n\n",
                    "- Source: ", entry.source, "\n",
                    "- Steps: ", absl::StrJoin(entry.Verbs(), ", "), "\n",
                    "- Witness: `corpus/scripts/", entry.witness, ".script`\n");
    if (!entry.after.empty()) {
      absl::StrAppend(
          &out, "- Applies after a step: `", absl::StrJoin(entry.after, "`, `"),
          "`",
          entry.after_on == TriggerSocket::kListener ? " on a listener"
          : entry.after_on == TriggerSocket::kConnection
              ? " on a connected socket"
          : entry.after_on == TriggerSocket::kBound
              ? " on a bound socket that listens later"
              : "",
          entry.and_after.empty()
              ? ""
              : absl::StrCat(" and after a step: `",
                             absl::StrJoin(entry.and_after, "`, `"), "`"),
          entry.trigger_socket_only ? ", to its own socket"
                                    : ", to the sockets it touched",
          entry.while_trigger_open ? ", while the trigger's socket is open"
                                   : "",
          "\n");
    }
    if (entry.affects_received_data) {
      absl::StrAppend(&out, entry.data_differs_after_trigger
                                ? "- The bytes a socket the trigger touched "
                                  "receives may differ, whatever the steps "
                                  "show.\n"
                                : "- The bytes a socket receives may differ "
                                  "too.\n");
    }
    absl::StrAppend(
        &out, "\n| kinds | what they do | outcomes |\n| --- | --- | --- |\n");
    for (const KindBehaviour& row : entry.behaviour) {
      std::vector<std::string> outcomes;
      for (const std::string& pattern : row.outcomes) {
        outcomes.push_back(absl::StrCat("`", pattern, "`"));
      }
      absl::StrAppend(&out, "| ", KindList(row.kinds), " | ", row.description,
                      " | ", absl::StrJoin(outcomes, ", "), " |\n");
    }
  }
  return out;
}

std::string DifferenceRegistry::Text() const {
  std::string out;
  for (const Difference& entry : entries_) {
    absl::StrAppend(&out, entry.id, "\n  ", entry.statement,
                    "\n  source: ", entry.source,
                    "\n  witness: corpus/scripts/", entry.witness, ".script\n");
    for (const KindBehaviour& row : entry.behaviour) {
      absl::StrAppend(&out, "  ", KindList(row.kinds), ": ", row.description,
                      " (", absl::StrJoin(row.outcomes, ", "), ")\n");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string Comparison::Describe() const {
  switch (verdict) {
    case Verdict::kEqual:
      return "equal";
    case Verdict::kEqualApartFrom:
      return absl::StrCat("equal apart from ", absl::StrJoin(entries, ", "));
    case Verdict::kDiverged:
      return absl::StrCat("diverged: ", reason);
  }
  return "?";
}

}  // namespace sockparity
