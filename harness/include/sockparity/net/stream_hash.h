// A digest of a byte stream, fed as the bytes arrive: how traces and check
// records name what a socket received without keeping the bytes.
#ifndef SOCKPARITY_NET_STREAM_HASH_H_
#define SOCKPARITY_NET_STREAM_HASH_H_

#include <cstdint>

#include "absl/types/span.h"

namespace sockparity {

// FNV-1a, 64 bits, over the whole stream however it was split. The offset
// basis is the one sockparity has always used, a digit short of FNV's
// (14695981039346656037): every trace and check record prints these
// digests, so the basis stays.
class StreamHash {
 public:
  void Add(absl::Span<const uint8_t> bytes) {
    for (uint8_t b : bytes) hash_ = (hash_ ^ b) * kPrime;
  }
  uint64_t value() const { return hash_; }

 private:
  static constexpr uint64_t kPrime = 1099511628211ull;
  uint64_t hash_ = 1469598103934665603ull;
};

}  // namespace sockparity

#endif  // SOCKPARITY_NET_STREAM_HASH_H_
