#include "codec/streaming_decoder.h"

#include "absl/strings/str_format.h"

namespace sockparity::internal {

absl::Status StreamingDecoder::Feed(absl::Span<const uint8_t> input,
                                    std::vector<Bytes>& frames) {
  if (!error_.ok()) return error_;
  if (finished_) {
    error_ = absl::FailedPreconditionError(
        absl::StrFormat("%d bytes fed at offset %d after end of stream",
                        input.size(), offset_));
    return error_;
  }
  error_ = Decode(input, frames);
  return error_;
}

absl::Status StreamingDecoder::Finish() {
  if (!error_.ok()) return error_;
  finished_ = true;
  error_ = AtEnd();
  return error_;
}

absl::Status CheckPayloadSize(const Codec& codec, size_t size,
                              bool allow_empty) {
  if (size > codec.max_frame()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: a payload of %d bytes is over the maximum of %d",
                        codec.Name(), size, codec.max_frame()));
  }
  if (size == 0 && !allow_empty) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: empty payloads are refused", codec.Name()));
  }
  return absl::OkStatus();
}

}  // namespace sockparity::internal
