// Internal: the one place where a case's verdict is decided. A case, the
// start of its server and the comparison across transports report what
// they observed; Decide turns that, the clause's strength and the server's
// state into the verdict and its reason, by the precedence written once in
// decide.cc.
#ifndef SOCKPARITY_CHECK_DECIDE_H_
#define SOCKPARITY_CHECK_DECIDE_H_

#include <optional>
#include <string>

#include "sockparity/check/verdict.h"

namespace sockparity::internal {

// What a case observed on one transport.
struct Observed {
  enum class Kind {
    kMet,           // what the clause asks (reason: what it saw, or empty)
    kMissed,        // not what the clause asks (reason: expected ...; saw ...)
    kLeftOpen,      // behaviour the contract leaves open (reason: what)
    kDoesNotApply,  // not on this transport or machine (reason: why)
    kNotServed,     // the server declines this (reason: how it said so)
  };
  Kind kind = Kind::kMet;
  std::string reason;

  static Observed Met(std::string reason = "") {
    return {Kind::kMet, std::move(reason)};
  }
  static Observed Missed(std::string reason) {
    return {Kind::kMissed, std::move(reason)};
  }
  static Observed LeftOpen(std::string reason) {
    return {Kind::kLeftOpen, std::move(reason)};
  }
  static Observed DoesNotApply(std::string reason) {
    return {Kind::kDoesNotApply, std::move(reason)};
  }
  static Observed NotServed(std::string reason) {
    return {Kind::kNotServed, std::move(reason)};
  }
};

// Everything a verdict depends on.
struct CaseFacts {
  Observed observed;
  // The case checks a SHOULD clause: missing it is NON-STRICT.
  bool should = false;
  // The server (or the instance started for the case) did not start: why.
  std::optional<std::string> start_failed;
  // The server ended during the case: how, and what it wrote.
  std::optional<std::string> ended;
};

// The verdict and its reason.
struct Decision {
  Verdict verdict;
  std::string reason;
};
Decision Decide(const CaseFacts& facts);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_DECIDE_H_
