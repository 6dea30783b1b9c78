#include "sockparity/codec/codec.h"

namespace sockparity {

absl::StatusOr<Bytes> EncodeAll(const Codec& codec,
                                absl::Span<const Bytes> payloads) {
  Bytes out;
  for (const Bytes& payload : payloads) {
    if (absl::Status status = codec.Encode(payload, out); !status.ok()) {
      return status;
    }
  }
  return out;
}

absl::StatusOr<std::vector<Bytes>> DecodeAll(const Codec& codec,
                                             absl::Span<const uint8_t> stream) {
  std::unique_ptr<FrameDecoder> decoder = codec.NewDecoder();
  std::vector<Bytes> frames;
  if (absl::Status status = decoder->Feed(stream, frames); !status.ok()) {
    return status;
  }
  if (absl::Status status = decoder->Finish(); !status.ok()) return status;
  return frames;
}

}  // namespace sockparity
