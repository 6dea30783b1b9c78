// The registry of documented differences between transports: every way two
// kinds may legitimately differ, with its source, and the comparison of
// traces that allows a mismatch only through an entry.
#ifndef SOCKPARITY_SCRIPT_DIFFERENCES_H_
#define SOCKPARITY_SCRIPT_DIFFERENCES_H_

#include <array>
#include <bitset>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"

namespace sockparity {

// One kind's compared outcome at one step, with the step's verb: what the
// registry's patterns are matched against. Written "verb:outcome" in the
// registry, the documentation and the peer check's records.
struct Observation {
  Verb verb = Verb::kPair;
  std::string outcome;

  // "send:EPIPE" gives {kSend, "EPIPE"}; nullopt without a ':' or when the
  // text before it names no verb.
  static std::optional<Observation> Parse(absl::string_view text);
  std::string ToString() const;
  friend bool operator==(const Observation&, const Observation&) = default;
};

// What one group of kinds does: the outcomes it shows, as patterns
// "verb:outcome" with shell globs in either part (e.g. "send:EPIPE",
// "sndbuf:*", "*:n/a").
struct KindBehaviour {
  std::vector<TransportKind> kinds;
  std::string description;  // in words, for the generated documentation
  // "verb:outcome" globs. For poll (and epoll), "poll:+EVENT" and
  // "poll:-EVENT" say that this kind shows, or does not show, one event:
  // two masks that no entry allows as wholes are compared event by event,
  // and each event shown by one kind only needs an entry that says so.
  std::vector<std::string> outcomes;
};

// Which socket a trigger step (`after`) must act on to count. kBound: a
// socket bound, not listening yet, that listens later.
enum class TriggerSocket { kAny, kListener, kConnection, kBound };

struct Difference {
  std::string id;         // stable; its confirmation test is named after it
  std::string statement;  // one line
  std::string source;     // manual page section or kernel source file
  std::vector<KindBehaviour> behaviour;
  // The entry applies only after a step like one of these (globs over the
  // step's text without its socket name, "VERB [ARGS]", e.g. "shutdown rd",
  // "listen *"), matched by effect: "shutdown rdwr" is also a "shutdown rd"
  // and a "shutdown wr", "abort" and "connect-as-nobody" (whose child
  // exits) are also a "close", and a close after "linger 0" on its socket
  // is also an "abort". It then applies only to later steps on the
  // sockets that step touched: its own socket, the other end of its
  // connection, for a listener or a bound socket every connection made to
  // it, for an accepted socket its listener (a step naming one of them,
  // as "connect L" or "bind-same L", counts). Empty: anywhere.
  std::vector<std::string> after{};
  // With `after`: the entry applies only where a step like one of these
  // came before as well, with the same scope, and is not the trigger step
  // itself (both had to happen: a read that met a second out-of-band byte;
  // a connect again after a first one). Empty: `after` alone.
  std::vector<std::string> and_after{};
  // Only trigger steps on this kind of socket count.
  TriggerSocket after_on = TriggerSocket::kAny;
  // Only steps on the trigger step's own socket, or naming it, are in
  // scope, not the other sockets it touched: what the entry explains is
  // that socket's (the file a path socket leaves behind).
  bool trigger_socket_only = false;
  // The allowance ends when the trigger step's socket is closed (what it
  // explains holds only while that socket is open).
  bool while_trigger_open = false;
  // A received byte stream may differ too where the entry allowed a step
  // to: only on the sockets its trigger touched (without `after`, those the
  // allowed step's socket touches).
  bool affects_received_data = false;
  // With `after` and affects_received_data: the received bytes may differ
  // on the sockets a trigger touched even where no step's outcome does
  // (how much a fill queued: each kind's buffer size).
  bool data_differs_after_trigger = false;
  // The corpus script (corpus/scripts/<witness>.script) that shows it.
  std::string witness;

  // The verbs this entry covers, from its patterns.
  std::vector<std::string> Verbs() const;
  // The row describing `kind`, or nullptr.
  const KindBehaviour* RowFor(TransportKind kind) const;
  // Whether `kind` showing `outcome` for `verb` is what the entry says.
  bool Expects(TransportKind kind, absl::string_view verb,
               absl::string_view outcome) const;
};

namespace internal {

class EntryScopes;
using VerbSet = std::bitset<kVerbCount>;

// A pattern split once, when its registry is made: the verbs its verb glob
// names, as bits, and the glob over the rest.
struct CompiledPattern {
  VerbSet verbs;
  std::string rest;     // the outcome, or a step's arguments
  bool literal = true;  // no '*' or '?' in `rest`: compared as text

  // "verb-glob<separator>rest-glob"; without the separator, the rest is
  // empty.
  static CompiledPattern Compile(absl::string_view pattern, char separator);
  bool Matches(Verb verb, absl::string_view rest_text) const;
};

}  // namespace internal

struct Comparison;

class DifferenceRegistry {
 public:
  explicit DifferenceRegistry(std::vector<Difference> entries);

  // sockparity's registry: the differences found on Linux.
  static const DifferenceRegistry& Default();
  // Default() without the entries named in SOCKPARITY_REGISTRY_WITHOUT
  // (ids, comma-separated), to see what they explain: what the
  // differential runs compare through (replay, the properties, the
  // fuzzers). An id that names no entry ends the process with a message.
  static const DifferenceRegistry& InEffect();
  // This registry without the entries `ids` names; NOT_FOUND names an id
  // that is none of its entries.
  absl::StatusOr<DifferenceRegistry> Without(
      absl::Span<const std::string> ids) const;

  absl::Span<const Difference> entries() const { return entries_; }
  const Difference* Find(absl::string_view id) const;

  // The entry that allows `x` on kind_x and `y` on kind_y to differ at
  // step `index` of `script`, or nullptr.
  const Difference* Allowing(const Script& script, size_t index,
                             TransportKind kind_x, absl::string_view x,
                             TransportKind kind_y, absl::string_view y) const;
  // The same without a script: `context` is the steps before, as text
  // without a socket name (e.g. {"abort"}). Observations of two different
  // verbs are never allowed.
  const Difference* Allowing(TransportKind kind_x, const Observation& x,
                             TransportKind kind_y, const Observation& y,
                             absl::Span<const std::string> context) const;

  // docs/DIFFERENCES.md.
  std::string Markdown() const;
  // A plain-text listing for the terminal.
  std::string Text() const;

  // The entry that says `kind_x` shows `event` (or not, `shown_by_x`) where
  // `kind_y` does the opposite, at a poll-like step.
  const Difference* AllowingEventAt(
      Verb verb, TransportKind kind_x, absl::string_view event, bool shown_by_x,
      TransportKind kind_y,
      absl::FunctionRef<bool(size_t entry)> triggered) const;

 private:
  friend class internal::EntryScopes;
  friend Comparison CompareTraces(const Script&, const Trace&, const Trace&,
                                  const DifferenceRegistry&);

  // An entry's patterns, compiled so that a comparison never re-formats or
  // re-splits "verb:outcome".
  struct Compiled {
    std::array<int, kAllTransportKinds.size()> row;  // per kind; -1: none
    std::vector<std::vector<internal::CompiledPattern>> rows;
    std::vector<internal::CompiledPattern> after;
    std::vector<internal::CompiledPattern> and_after;
  };

  const Difference* AllowingAt(
      Verb verb, TransportKind kind_x, absl::string_view x,
      TransportKind kind_y, absl::string_view y,
      absl::FunctionRef<bool(size_t entry)> triggered) const;

  std::vector<Difference> entries_;
  std::vector<Compiled> compiled_;  // one per entry
};

struct Comparison {
  enum class Verdict { kEqual, kEqualApartFrom, kDiverged };
  Verdict verdict = Verdict::kEqual;
  std::vector<std::string> entries;  // ids that allowed a mismatch, in order
  int step = -1;       // 0-based step of the divergence; -1 for a stream
  std::string reason;  // for kDiverged: what differed, both outcomes

  // "equal", "equal apart from a, b", "diverged at step 4 ...".
  std::string Describe() const;
};

Comparison CompareTraces(const Script& script, const Trace& x, const Trace& y,
                         const DifferenceRegistry& registry);

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_DIFFERENCES_H_
