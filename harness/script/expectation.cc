#include "script/expectation.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sockparity/script/glob.h"

namespace sockparity {
namespace {

constexpr size_t kKinds = kAllTransportKinds.size();
using KindSet = std::array<bool, kKinds>;

size_t IndexOf(TransportKind kind) {
  for (size_t i = 0; i < kKinds; ++i) {
    if (kAllTransportKinds[i] == kind) return i;
  }
  return 0;
}

// Names for groups of kinds, besides each kind's own name.
struct Group {
  absl::string_view name;
  KindSet kinds;
};
constexpr Group kGroups[] = {
    {"local", {true, true, true, false, false}},
    {"tcp", {false, false, false, true, true}},
};

std::optional<KindSet> KindsNamed(absl::string_view name) {
  for (const Group& group : kGroups) {
    if (group.name == name) return group.kinds;
  }
  absl::StatusOr<TransportKind> kind = ParseTransportKind(name);
  if (!kind.ok()) return std::nullopt;
  KindSet set{};
  set[IndexOf(*kind)] = true;
  return set;
}

std::string KindNames() {
  std::vector<std::string> names;
  for (TransportKind kind : kAllTransportKinds) {
    names.emplace_back(TransportName(kind));
  }
  for (const Group& group : kGroups) names.emplace_back(group.name);
  return absl::StrJoin(names, ", ");
}

// The length of "KINDS:" at the start of `segment` when it is followed by
// whitespace or nothing (an outcome like "path:l" has none after its
// colon); 0 if the segment has no kind list.
size_t KindPrefixLength(absl::string_view segment) {
  size_t colon = segment.find(':');
  if (colon == absl::string_view::npos || colon == 0 ||
      (colon + 1 < segment.size() &&
       !absl::ascii_isspace(segment[colon + 1]))) {
    return 0;
  }
  for (char c : segment.substr(0, colon)) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != ',') return 0;
  }
  return colon + 1;
}

}  // namespace

const std::string& Expectation::For(TransportKind kind) const {
  return outcomes[IndexOf(kind)];
}

bool Expectation::Accepts(TransportKind kind, absl::string_view outcome) const {
  return GlobMatch(For(kind), outcome);
}

std::string FormatExpectation(const Expectation& expect) {
  std::vector<std::string> groups;
  KindSet done{};
  for (size_t i = 0; i < kKinds; ++i) {
    if (done[i]) continue;
    KindSet same{};
    for (size_t j = i; j < kKinds; ++j) {
      same[j] = expect.outcomes[j] == expect.outcomes[i];
      done[j] = done[j] || same[j];
    }
    // One outcome for every kind, unless it would read as a kind list.
    if (i == 0 && KindPrefixLength(expect.outcomes[0]) == 0 &&
        std::all_of(same.begin(), same.end(), [](bool b) { return b; })) {
      return expect.outcomes[0];
    }
    // In kind order, a group's name where all of its kinds are here.
    std::vector<std::string> names;
    KindSet left = same;
    for (size_t k = 0; k < kKinds; ++k) {
      if (!left[k]) continue;
      for (const Group& group : kGroups) {
        bool within = group.kinds[k];
        for (size_t g = 0; g < kKinds; ++g)
          within &= !group.kinds[g] || left[g];
        if (!within) continue;
        names.emplace_back(group.name);
        for (size_t g = 0; g < kKinds; ++g)
          left[g] = left[g] && !group.kinds[g];
        break;
      }
      if (left[k]) names.emplace_back(TransportName(kAllTransportKinds[k]));
      left[k] = false;
    }
    groups.push_back(
        absl::StrCat(absl::StrJoin(names, ","), ": ", expect.outcomes[i]));
  }
  return absl::StrJoin(groups, "; ");
}

namespace internal {

bool ParseExpectation(absl::string_view text, Expectation* expect,
                      ExpectationError* error) {
  KindSet named{};
  std::optional<std::string> rest;  // the group without kinds
  size_t rest_at = 0;
  size_t offset = 0;
  while (offset <= text.size()) {
    size_t end = text.find(';', offset);
    if (end == absl::string_view::npos) end = text.size();
    absl::string_view segment = text.substr(offset, end - offset);
    const size_t lead =
        segment.size() - absl::StripLeadingAsciiWhitespace(segment).size();
    segment = absl::StripAsciiWhitespace(segment);
    const size_t at = offset + lead;
    const size_t prefix = KindPrefixLength(segment);
    absl::string_view outcome =
        absl::StripAsciiWhitespace(segment.substr(prefix));
    if (outcome.empty()) {
      *error = {at,
                "an empty outcome after '='; write the outcome every "
                "kind gives, or 'KINDS: OUTCOME' groups split by ';'"};
      return false;
    }
    if (prefix == 0) {
      if (rest) {
        *error = {at,
                  absl::StrCat("a second outcome for every other kind ('",
                               absl::CHexEscape(outcome),
                               "'); name its kinds ('tcp: ", outcome, "')")};
        return false;
      }
      rest = std::string(outcome);
      rest_at = at;
    } else {
      KindSet these{};
      size_t name_at = at;
      for (absl::string_view name :
           absl::StrSplit(segment.substr(0, prefix - 1), ',')) {
        std::optional<KindSet> kinds = KindsNamed(name);
        if (!kinds) {
          *error = {name_at,
                    absl::StrCat("unknown kind '", absl::CHexEscape(name),
                                 "' (kinds: ", KindNames(), ")")};
          return false;
        }
        for (size_t k = 0; k < kKinds; ++k) {
          if (!(*kinds)[k]) continue;
          if (named[k]) {
            *error = {name_at,
                      absl::StrCat(TransportName(kAllTransportKinds[k]),
                                   " has two outcomes")};
            return false;
          }
          named[k] = these[k] = true;
          expect->outcomes[k] = std::string(outcome);
        }
        name_at += name.size() + 1;
      }
    }
    offset = end + 1;
  }
  if (rest &&
      std::all_of(named.begin(), named.end(), [](bool b) { return b; })) {
    *error = {rest_at, absl::StrCat("the outcome '", absl::CHexEscape(*rest),
                                    "' is for no kind: every kind is named")};
    return false;
  }
  for (size_t k = 0; k < kKinds; ++k) {
    if (named[k]) continue;
    if (!rest) {
      *error = {text.size(), absl::StrCat("no outcome for ",
                                          TransportName(kAllTransportKinds[k]),
                                          "; every kind needs one")};
      return false;
    }
    expect->outcomes[k] = *rest;
  }
  return true;
}

}  // namespace internal
}  // namespace sockparity
