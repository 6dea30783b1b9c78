// Internal: the streaming decoder shared by the codecs whose frames are a
// length prefix and then the payload; subclasses read the prefix.
#ifndef SOCKPARITY_CODEC_PREFIXED_DECODER_H_
#define SOCKPARITY_CODEC_PREFIXED_DECODER_H_

#include <optional>
#include <string>

#include "sockparity/codec/codec.h"

namespace sockparity::internal {

class PrefixedDecoder : public FrameDecoder {
 public:
  absl::Status Feed(absl::Span<const uint8_t> input,
                    std::vector<Bytes>& frames) final;
  absl::Status Finish() final;
  uint64_t offset() const final { return offset_; }

 protected:
  PrefixedDecoder(uint64_t max_frame, bool allow_empty)
      : max_frame_(max_frame), allow_empty_(allow_empty) {}

  // Takes the next prefix byte of the frame starting at `frame_offset`:
  // nullopt while the prefix goes on, then the length, or a malformed-prefix
  // error.
  virtual absl::StatusOr<std::optional<uint64_t>> PrefixByte(
      uint8_t byte, uint64_t frame_offset) = 0;
  // Bytes of the current prefix taken so far, and forgetting them.
  virtual int prefix_bytes() const = 0;
  virtual void ResetPrefix() = 0;

 private:
  absl::Status Fail(absl::Status status);

  const uint64_t max_frame_;
  const bool allow_empty_;
  uint64_t offset_ = 0;             // stream bytes consumed
  uint64_t frame_offset_ = 0;       // where the current frame's prefix began
  std::optional<uint64_t> length_;  // set once the prefix is complete
  Bytes payload_;                   // grows only as payload bytes arrive
  bool finished_ = false;
  absl::Status error_;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CODEC_PREFIXED_DECODER_H_
