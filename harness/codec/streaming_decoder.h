// Internal: what every codec here shares. A streaming decoder's error is
// sticky and nothing is taken after the end of the stream; an encoder
// refuses a payload over the maximum, or an empty one where it must.
#ifndef SOCKPARITY_CODEC_STREAMING_DECODER_H_
#define SOCKPARITY_CODEC_STREAMING_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sockparity/codec/codec.h"

namespace sockparity::internal {

class StreamingDecoder : public FrameDecoder {
 public:
  absl::Status Feed(absl::Span<const uint8_t> input,
                    std::vector<Bytes>& frames) final;
  absl::Status Finish() final;
  uint64_t offset() const final { return offset_; }

 protected:
  // Decodes `input` (never after the end, never after an error), counting
  // each byte it takes in offset_.
  virtual absl::Status Decode(absl::Span<const uint8_t> input,
                              std::vector<Bytes>& frames) = 0;
  // The stream ended at offset_: DATA_LOSS for a frame left incomplete.
  virtual absl::Status AtEnd() = 0;

  uint64_t offset_ = 0;  // stream bytes consumed

 private:
  bool finished_ = false;
  absl::Status error_;
};

// OK, or INVALID_ARGUMENT naming `codec` when a payload of `size` bytes is
// over its maximum, or empty where `allow_empty` is false.
absl::Status CheckPayloadSize(const Codec& codec, size_t size,
                              bool allow_empty);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CODEC_STREAMING_DECODER_H_
