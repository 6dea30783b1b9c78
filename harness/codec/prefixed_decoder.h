// Internal: the streaming decoder shared by the codecs whose frames are a
// length prefix and then the payload; subclasses read the prefix.
#ifndef SOCKPARITY_CODEC_PREFIXED_DECODER_H_
#define SOCKPARITY_CODEC_PREFIXED_DECODER_H_

#include <optional>
#include <string>

#include "codec/streaming_decoder.h"
#include "sockparity/codec/codec.h"

namespace sockparity::internal {

class PrefixedDecoder : public StreamingDecoder {
 protected:
  PrefixedDecoder(uint64_t max_frame, bool allow_empty)
      : max_frame_(max_frame), allow_empty_(allow_empty) {}

  // The prefix bytes taken so far for the current frame, and what they
  // say; forgotten when the frame is complete.
  struct Prefix {
    int bytes = 0;
    uint64_t value = 0;
  };
  // Takes the next prefix byte, already counted in `prefix.bytes`, of the
  // frame starting at `frame_offset`: nullopt while the prefix goes on,
  // then the length, or a malformed-prefix error.
  virtual absl::StatusOr<std::optional<uint64_t>> PrefixByte(
      uint8_t byte, Prefix& prefix, uint64_t frame_offset) = 0;

 private:
  absl::Status Decode(absl::Span<const uint8_t> input,
                      std::vector<Bytes>& frames) final;
  absl::Status AtEnd() final;

  const uint64_t max_frame_;
  const bool allow_empty_;
  Prefix prefix_;
  uint64_t frame_offset_ = 0;       // where the current frame's prefix began
  std::optional<uint64_t> length_;  // set once the prefix is complete
  Bytes payload_;                   // grows only as payload bytes arrive
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CODEC_PREFIXED_DECODER_H_
