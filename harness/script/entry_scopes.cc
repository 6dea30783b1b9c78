// Where each registry entry applies in a script: the steps its trigger
// reaches (EntryScopes), and what a trigger matches.
#include "script/entry_scopes.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "script/verbs.h"
#include "sockparity/script/differences.h"

namespace sockparity {
namespace internal {

std::string Arguments(const Step& step) {
  const std::string text = FormatStep(step);
  absl::string_view arguments = absl::string_view(text).substr(
      step.slot.size() + 1 + VerbName(step.verb).size());
  absl::ConsumePrefix(&arguments, " ");
  return std::string(arguments);
}

bool TriggerMatches(const CompiledPattern& pattern, Verb verb,
                    absl::string_view arguments) {
  if (pattern.Matches(verb, arguments)) return true;
  if (verb == Verb::kAbort) return pattern.Matches(Verb::kClose, "");
  // The child that connected exits, closing its end.
  if (verb == Verb::kConnectAsNobody) {
    return pattern.Matches(Verb::kClose, "");
  }
  if (verb == Verb::kShutdown && arguments == "rdwr") {
    return pattern.Matches(verb, "rd") || pattern.Matches(verb, "wr");
  }
  return false;
}

namespace {

// Whether step `step` on `socket` is on the kind of socket `on` names. A
// bound socket is a listener from its relisten on.
bool OnRightSocket(TriggerSocket on, const ScriptSockets& sockets, int socket,
                   size_t step) {
  const ScriptSockets::Role role = sockets.RoleOf(socket);
  switch (on) {
    case TriggerSocket::kAny:
      return true;
    case TriggerSocket::kListener:
      return role == ScriptSockets::Role::kListener ||
             (role == ScriptSockets::Role::kBound &&
              sockets.ListeningFrom(socket) <= step);
    case TriggerSocket::kConnection:
      return role == ScriptSockets::Role::kConnection ||
             (role == ScriptSockets::Role::kBound &&
              sockets.ConnectingFrom(socket) <= step);
    case TriggerSocket::kBound:
      return role == ScriptSockets::Role::kBound &&
             sockets.ListeningFrom(socket) > step &&
             sockets.ListeningFrom(socket) != static_cast<size_t>(-1);
  }
  return false;
}

}  // namespace

EntryScopes::EntryScopes(const DifferenceRegistry& registry,
                         const Script& script)
    : registry_(registry), sockets_(script) {
  triggers_.resize(registry.entries_.size());
  and_triggers_.resize(registry.entries_.size());
  // Each step's arguments are formatted at most once, and only for a step
  // whose verb some `after` names (or could by effect).
  std::vector<std::optional<std::string>> arguments(script.steps.size());
  // A close after SO_LINGER {1, 0} on its socket is an abort (the runner's
  // abort is exactly that).
  std::vector<bool> aborts(script.steps.size(), false);
  std::map<int, bool> linger_zero;  // per socket
  for (size_t i = 0; i < script.steps.size(); ++i) {
    const Step& step = script.steps[i];
    const int socket = sockets_.SocketOf(i);
    if (step.verb == Verb::kLinger) linger_zero[socket] = step.number == 0;
    aborts[i] = step.verb == Verb::kClose && linger_zero[socket];
  }
  for (size_t e = 0; e < registry.compiled_.size(); ++e) {
    const Difference& entry = registry.entries_[e];
    for (size_t i = 0; i < script.steps.size(); ++i) {
      const Step& step = script.steps[i];
      const int socket = sockets_.SocketOf(i);
      if (!OnRightSocket(entry.after_on, sockets_, socket, i)) continue;
      auto matches = [&](const std::vector<CompiledPattern>& patterns) {
        for (const CompiledPattern& pattern : patterns) {
          if (!arguments[i]) arguments[i] = Arguments(step);
          if (TriggerMatches(pattern, step.verb, *arguments[i]) ||
              (aborts[i] && TriggerMatches(pattern, Verb::kAbort, ""))) {
            return true;
          }
        }
        return false;
      };
      if (matches(registry.compiled_[e].after)) {
        triggers_[e].push_back({i, entry.trigger_socket_only
                                       ? std::vector<int>{socket}
                                       : sockets_.Touched(socket)});
      }
      if (matches(registry.compiled_[e].and_after)) {
        and_triggers_[e].push_back({i, sockets_.Touched(socket)});
      }
    }
  }
}

std::vector<const EntryScopes::Trigger*> EntryScopes::TriggersReaching(
    size_t entry, size_t step) const {
  std::vector<const Trigger*> reaching;
  const bool while_open = registry_.entries_[entry].while_trigger_open;
  for (const Trigger& trigger : triggers_[entry]) {
    if (trigger.step >= step) break;
    if (while_open &&
        sockets_.ClosedAt(sockets_.SocketOf(trigger.step)) < step) {
      continue;
    }
    if (sockets_.Reaches(step, trigger.touched)) reaching.push_back(&trigger);
  }
  return reaching;
}

bool EntryScopes::AlsoReached(size_t entry, size_t step,
                              size_t trigger_step) const {
  if (registry_.entries_[entry].and_after.empty()) return true;
  for (const Trigger& trigger : and_triggers_[entry]) {
    if (trigger.step >= step) break;
    // Both had to happen: the trigger step does not stand for both.
    if (trigger.step == trigger_step) continue;
    if (sockets_.Reaches(step, trigger.touched)) return true;
  }
  return false;
}

bool EntryScopes::Applies(size_t entry, size_t step) const {
  if (registry_.entries_[entry].after.empty()) return true;
  for (const Trigger* trigger : TriggersReaching(entry, step)) {
    if (AlsoReached(entry, step, trigger->step)) return true;
  }
  return false;
}

void EntryScopes::AddDataAllowed(size_t entry, size_t step,
                                 std::set<std::string>* names) const {
  if (!registry_.entries_[entry].affects_received_data) return;
  auto add = [&](const std::vector<int>& sockets) {
    for (int socket : sockets) names->insert(sockets_.NameOf(socket));
  };
  if (registry_.entries_[entry].after.empty()) {
    add(sockets_.Touched(sockets_.SocketOf(step)));
    return;
  }
  for (const Trigger* trigger : TriggersReaching(entry, step)) {
    add(trigger->touched);
  }
}

int EntryScopes::DataDiffersAfterTrigger(const std::string& name) const {
  for (size_t e = 0; e < triggers_.size(); ++e) {
    const Difference& entry = registry_.entries_[e];
    if (!entry.data_differs_after_trigger || !entry.affects_received_data) {
      continue;
    }
    for (const Trigger& trigger : triggers_[e]) {
      for (int socket : trigger.touched) {
        if (sockets_.NameOf(socket) == name) return static_cast<int>(e);
      }
    }
  }
  return -1;
}

}  // namespace internal
}  // namespace sockparity
