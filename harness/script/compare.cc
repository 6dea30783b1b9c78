// Comparing two traces of a script through the registry, each entry
// applied only where its trigger reaches.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "script/entry_scopes.h"
#include "script/verbs.h"
#include "sockparity/script/differences.h"

namespace sockparity {

const Difference* DifferenceRegistry::Allowing(
    const Script& script, size_t index, TransportKind kind_x,
    absl::string_view x, TransportKind kind_y, absl::string_view y) const {
  if (index >= script.steps.size()) return nullptr;
  const internal::EntryScopes scopes(*this, script);
  return AllowingAt(script.steps[index].verb, kind_x, x, kind_y, y,
                    [&](size_t e) { return scopes.Applies(e, index); });
}

namespace {

// Whether a step that sets up a socket left it set up: made, bound,
// listening, connected or connecting.
bool SetUp(absl::string_view outcome) {
  return outcome == "ok" || outcome == "EINPROGRESS";
}

bool ShowsReadiness(Verb verb) {
  return verb == Verb::kPoll || verb == Verb::kEpollLevel ||
         verb == Verb::kEpollEdge;
}

// Events are written "IN|OUT|...".
bool HasEvent(absl::string_view events, absl::string_view event) {
  for (absl::string_view one : absl::StrSplit(events, '|')) {
    if (one == event) return true;
  }
  return false;
}

std::string WithoutEvent(absl::string_view events, absl::string_view event) {
  std::vector<absl::string_view> kept;
  for (absl::string_view one : absl::StrSplit(events, '|')) {
    if (one != event) kept.push_back(one);
  }
  return kept.empty() ? "none" : absl::StrJoin(kept, "|");
}

std::set<std::string, std::less<>> Events(absl::string_view mask) {
  std::set<std::string, std::less<>> events;
  if (mask == "none") return events;
  for (absl::string_view one : absl::StrSplit(mask, '|')) {
    events.emplace(one);
  }
  return events;
}

// The entries that explain, one event each, every event that one of two
// masks shows and the other does not; empty if one is unexplained (or the
// outcomes are not both masks).
std::vector<const Difference*> ExplainEvents(
    const DifferenceRegistry& registry, Verb verb, TransportKind kind_x,
    absl::string_view a, TransportKind kind_y, absl::string_view b,
    absl::FunctionRef<bool(size_t entry)> applies) {
  const auto is_mask = [](absl::string_view outcome) {
    return outcome == "none" ||
           outcome.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ|") ==
               absl::string_view::npos;
  };
  if (!is_mask(a) || !is_mask(b)) return {};
  const auto in_x = Events(a);
  const auto in_y = Events(b);
  std::vector<const Difference*> entries;
  auto explain = [&](const std::string& event, bool shown_by_x) {
    const Difference* entry = registry.AllowingEventAt(
        verb, kind_x, event, shown_by_x, kind_y, applies);
    if (entry != nullptr) entries.push_back(entry);
    return entry != nullptr;
  };
  for (const std::string& event : in_x) {
    if (!in_y.contains(event) && !explain(event, true)) return {};
  }
  for (const std::string& event : in_y) {
    if (!in_x.contains(event) && !explain(event, false)) return {};
  }
  return entries;
}

// Whether step `step` names a listener, whose queue it changes.
bool QueuesOn(const internal::ScriptSockets& sockets, size_t step) {
  const int target = sockets.TargetOf(step);
  return target != internal::ScriptSockets::kNone &&
         sockets.ListeningFrom(target) < step;
}

// Whether step `step`, set up on one kind only, makes the socket it names
// a different thing on the two kinds too: a listener's queue, or an address
// bound again.
bool ChangesTarget(const internal::VerbDescriptor& described,
                   const internal::ScriptSockets& sockets, size_t step) {
  return (described.sets_up_target && QueuesOn(sockets, step)) ||
         (described.shares_target_address &&
          sockets.TargetOf(step) != internal::ScriptSockets::kNone);
}

// Step `step` changed its target on one kind only: with an address that
// differs (bind-same), so does every socket sharing that address.
void MarkTarget(const internal::VerbDescriptor& described,
                const internal::ScriptSockets& sockets, size_t step,
                const Difference* entry,
                std::map<int, const Difference*>* set_up_on_one) {
  const int target = sockets.TargetOf(step);
  set_up_on_one->emplace(target, entry);
  if (!described.shares_target_address) return;
  for (int sharing : sockets.SharingAddress(target)) {
    set_up_on_one->emplace(sharing, entry);
  }
}

// The entry that set up the socket named `name` on one kind only, or
// nullptr.
const Difference* SetUpOnOne(const std::map<int, const Difference*>& set_up,
                             const internal::ScriptSockets& sockets,
                             const std::string& name) {
  for (const auto& [socket, entry] : set_up) {
    if (sockets.NameOf(socket) == name) return entry;
  }
  return nullptr;
}

}  // namespace

Comparison CompareTraces(const Script& script, const Trace& x, const Trace& y,
                         const DifferenceRegistry& registry) {
  Comparison result;
  // Sockets an allowed difference set up on one of the two kinds only (a
  // bind, listen, connect or accept that succeeded on one and failed on the
  // other), with the entry: from then on they are different things on the
  // two kinds, and the steps on them, or naming them, are that entry's
  // consequence, not compared.
  std::map<int, const Difference*> set_up_on_one;
  // The sockets whose received bytes an entry that explained a step lets
  // differ.
  std::set<std::string> data_allowed;
  std::optional<internal::EntryScopes> scopes;
  auto diverge = [&](int step, std::string reason) {
    result.verdict = Comparison::Verdict::kDiverged;
    result.step = step;
    result.reason = std::move(reason);
    return result;
  };
  const size_t steps = std::min(x.steps.size(), y.steps.size());
  if (x.steps.size() != y.steps.size() || steps != script.steps.size()) {
    return diverge(
        static_cast<int>(steps),
        absl::StrFormat("traces have %d and %d steps for a script of %d",
                        x.steps.size(), y.steps.size(), script.steps.size()));
  }
  for (size_t i = 0; i < steps; ++i) {
    const std::string& a = x.steps[i].outcome;
    const std::string& b = y.steps[i].outcome;
    if (a == b) {
      // Set up from a socket that differs (an accept on a listener whose
      // queue differs), a socket differs too, though both kinds say "ok".
      if (!set_up_on_one.empty() &&
          internal::Describe(script.steps[i].verb).sets_up) {
        const internal::ScriptSockets& sockets = scopes->sockets();
        auto from = set_up_on_one.find(sockets.TargetOf(i));
        if (from != set_up_on_one.end()) {
          set_up_on_one.emplace(sockets.SocketOf(i), from->second);
        }
      }
      continue;
    }
    // Most pairs agree everywhere: the scopes are found only once needed.
    if (!scopes) scopes.emplace(registry, script);
    auto applies = [&](size_t e) { return scopes->Applies(e, i); };
    const Verb verb = script.steps[i].verb;
    const Difference* entry =
        registry.AllowingAt(verb, x.kind, a, y.kind, b, applies);
    // Urgent data pending (PRI) is the stream's, not the connection state's
    // that entries describe: shown by both, it is no part of what differs.
    if (entry == nullptr && ShowsReadiness(verb) && HasEvent(a, "PRI") &&
        HasEvent(b, "PRI")) {
      entry = registry.AllowingAt(verb, x.kind, WithoutEvent(a, "PRI"), y.kind,
                                  WithoutEvent(b, "PRI"), applies);
    }
    // Masks no entry allows as wholes: event by event, each event shown by
    // one kind only explained by an entry of its own (two independent
    // differences at one poll, as a pending error and a peer's shutdown).
    std::vector<const Difference*> by_event;
    if (entry == nullptr && ShowsReadiness(verb)) {
      by_event = ExplainEvents(registry, verb, x.kind, a, y.kind, b, applies);
      if (!by_event.empty()) entry = by_event.front();
    }
    if (entry == nullptr) {
      // No entry speaks of this step: it may still be the consequence of
      // one that set a socket up on one kind only.
      if (!set_up_on_one.empty()) {
        const internal::ScriptSockets& sockets = scopes->sockets();
        auto on = set_up_on_one.find(sockets.SocketOf(i));
        if (on == set_up_on_one.end()) {
          on = set_up_on_one.find(sockets.TargetOf(i));
        }
        if (on != set_up_on_one.end()) {
          data_allowed.insert(sockets.NameOf(on->first));
          // A socket set up from it ("connect K") differs with it, and so
          // does the queue of a socket it connects to.
          const internal::VerbDescriptor& described = internal::Describe(verb);
          if (described.sets_up) {
            set_up_on_one.emplace(sockets.SocketOf(i), on->second);
            data_allowed.insert(sockets.NameOf(sockets.SocketOf(i)));
            if (ChangesTarget(described, sockets, i)) {
              MarkTarget(described, sockets, i, on->second, &set_up_on_one);
            }
          }
          if (std::find(result.entries.begin(), result.entries.end(),
                        on->second->id) == result.entries.end()) {
            result.entries.push_back(on->second->id);
          }
          continue;
        }
      }
      return diverge(
          static_cast<int>(i),
          absl::StrFormat("step %d '%s': %s gives %s, %s gives %s", i + 1,
                          FormatStep(script.steps[i]), TransportName(x.kind), a,
                          TransportName(y.kind), b));
    }
    for (const Difference* more : by_event) {
      if (std::find(result.entries.begin(), result.entries.end(), more->id) ==
          result.entries.end()) {
        result.entries.push_back(more->id);
      }
    }
    scopes->AddDataAllowed(
        static_cast<size_t>(entry - registry.entries().data()), i,
        &data_allowed);
    const internal::VerbDescriptor& described = internal::Describe(verb);
    // Set up from a socket that differs ("connect K"), it differs too.
    if (described.sets_up && !set_up_on_one.empty()) {
      const internal::ScriptSockets& sockets = scopes->sockets();
      auto from = set_up_on_one.find(sockets.TargetOf(i));
      if (from != set_up_on_one.end()) {
        set_up_on_one.emplace(sockets.SocketOf(i), from->second);
      }
    }
    if (described.sets_up && SetUp(a) != SetUp(b)) {
      const internal::ScriptSockets& sockets = scopes->sockets();
      set_up_on_one.emplace(sockets.SocketOf(i), entry);
      if (ChangesTarget(described, sockets, i)) {
        MarkTarget(described, sockets, i, entry, &set_up_on_one);
      }
    }
    if (std::find(result.entries.begin(), result.entries.end(), entry->id) ==
        result.entries.end()) {
      result.entries.push_back(entry->id);
    }
  }
  std::set<std::string> sockets;
  for (const auto& [name, digest] : x.received) sockets.insert(name);
  for (const auto& [name, digest] : y.received) sockets.insert(name);
  for (const std::string& name : sockets) {
    auto in_x = x.received.find(name);
    auto in_y = y.received.find(name);
    std::string got_x = in_x == x.received.end() ? "nothing" : in_x->second;
    std::string got_y = in_y == y.received.end() ? "nothing" : in_y->second;
    if (got_x == got_y || data_allowed.contains(name)) continue;
    if (!scopes) scopes.emplace(registry, script);
    // A socket set up on one kind only is not the same socket on the two
    // (made on one, refused on the other; or connected to itself on TCP
    // where UNIX refused): what it received differs with it, whichever
    // entry explained the steps on it.
    if (const Difference* set_up =
            SetUpOnOne(set_up_on_one, scopes->sockets(), name);
        set_up != nullptr) {
      if (std::find(result.entries.begin(), result.entries.end(), set_up->id) ==
          result.entries.end()) {
        result.entries.push_back(set_up->id);
      }
      continue;
    }
    if (const int e = scopes->DataDiffersAfterTrigger(name); e >= 0) {
      const std::string& id = registry.entries()[e].id;
      if (std::find(result.entries.begin(), result.entries.end(), id) ==
          result.entries.end()) {
        result.entries.push_back(id);
      }
      continue;
    }
    return diverge(-1, absl::StrFormat("%s received %s on %s but %s on %s",
                                       name, got_x, TransportName(x.kind),
                                       got_y, TransportName(y.kind)));
  }
  if (!result.entries.empty()) {
    result.verdict = Comparison::Verdict::kEqualApartFrom;
  }
  return result;
}

}  // namespace sockparity
