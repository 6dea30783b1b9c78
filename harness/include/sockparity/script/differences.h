// The registry of documented differences between transports: every way two
// kinds may legitimately differ, with its source, and the comparison of
// traces that allows a mismatch only through an entry.
#ifndef SOCKPARITY_DIFFERENCES_H_
#define SOCKPARITY_DIFFERENCES_H_

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"
#include "sockparity/net/transport.h"

namespace sockparity {

// What one group of kinds does: the outcomes it shows, as glob patterns over
// "verb:outcome" (e.g. "send:EPIPE", "sndbuf:*").
struct KindBehaviour {
  std::vector<TransportKind> kinds;
  std::string description;  // in words, for the generated documentation
  std::vector<std::string> outcomes;
};

struct Difference {
  std::string id;         // stable; its confirmation test is named after it
  std::string statement;  // one line
  std::string source;     // manual page section or kernel source file
  std::vector<KindBehaviour> behaviour;
  // The entry applies only after a step like one of these (glob patterns
  // over the step's text without its socket name, e.g. "shutdown rd");
  // empty: anywhere. Keeps an entry from explaining what it is not about.
  std::vector<std::string> after{};
  // A received byte stream may differ too where the entry allowed a step to.
  bool affects_received_data = false;
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

class DifferenceRegistry {
 public:
  explicit DifferenceRegistry(std::vector<Difference> entries)
      : entries_(std::move(entries)) {}

  // sockparity's registry: the differences found on Linux.
  static const DifferenceRegistry& Default();

  absl::Span<const Difference> entries() const { return entries_; }
  const Difference* Find(absl::string_view id) const;

  // The entry that allows `x` on kind_x and `y` on kind_y to differ at
  // step `index` of `script`, or nullptr.
  const Difference* Allowing(const Script& script, size_t index,
                             TransportKind kind_x, absl::string_view x,
                             TransportKind kind_y, absl::string_view y) const;

  // docs/DIFFERENCES.md.
  std::string Markdown() const;
  // A plain-text listing for the terminal.
  std::string Text() const;

 private:
  std::vector<Difference> entries_;
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

#endif  // SOCKPARITY_DIFFERENCES_H_
