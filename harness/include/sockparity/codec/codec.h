// Framing codecs: an encoder for whole frames and a streaming decoder that
// accepts input split at any byte. Decoders refuse oversize, malformed and
// truncated input with an error naming the problem and the stream offset,
// and never reserve memory for a length before its bytes arrive.
#ifndef SOCKPARITY_CODEC_CODEC_H_
#define SOCKPARITY_CODEC_CODEC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "sockparity/net/bytes.h"

namespace sockparity {

// The largest frame payload a codec accepts unless told otherwise.
inline constexpr uint64_t kDefaultMaxFrame = uint64_t{16} << 20;

class FrameDecoder {
 public:
  virtual ~FrameDecoder() = default;

  // Consumes all of `input`, appending each frame it completes to `frames`.
  // The first error is sticky: every later call returns it again, and the
  // frames completed before it have been appended.
  virtual absl::Status Feed(absl::Span<const uint8_t> input,
                            std::vector<Bytes>& frames) = 0;

  // End of stream: DATA_LOSS if a frame was left incomplete.
  virtual absl::Status Finish() = 0;

  // Stream bytes consumed so far.
  virtual uint64_t offset() const = 0;
};

class Codec {
 public:
  virtual ~Codec() = default;

  // E.g. "u32be max=16777216": printed with property counterexamples.
  virtual std::string Name() const = 0;
  virtual uint64_t max_frame() const = 0;

  // Appends the encoding of one frame to `out`; refuses a payload the
  // decoder would refuse.
  virtual absl::Status Encode(absl::Span<const uint8_t> payload,
                              Bytes& out) const = 0;

  virtual std::unique_ptr<FrameDecoder> NewDecoder() const = 0;
};

// Encodes each payload in order into one byte stream.
absl::StatusOr<Bytes> EncodeAll(const Codec& codec,
                                absl::Span<const Bytes> payloads);

// Feeds `stream` whole and finishes: the frames, or the first error.
absl::StatusOr<std::vector<Bytes>> DecodeAll(const Codec& codec,
                                             absl::Span<const uint8_t> stream);

}  // namespace sockparity

#endif  // SOCKPARITY_CODEC_CODEC_H_
