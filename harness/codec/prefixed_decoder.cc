#include "codec/prefixed_decoder.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace sockparity::internal {

absl::Status PrefixedDecoder::Decode(absl::Span<const uint8_t> input,
                                     std::vector<Bytes>& frames) {
  size_t pos = 0;
  while (pos < input.size()) {
    if (!length_) {
      ++prefix_.bytes;
      absl::StatusOr<std::optional<uint64_t>> length =
          PrefixByte(input[pos], prefix_, frame_offset_);
      ++pos;
      ++offset_;
      if (!length.ok()) return length.status();
      if (!length->has_value()) continue;
      const uint64_t claimed = **length;
      if (claimed > max_frame_) {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "frame at offset %d claims %d bytes, over the maximum of %d",
            frame_offset_, claimed, max_frame_));
      }
      if (claimed == 0 && !allow_empty_) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "frame at offset %d has length 0, which this codec refuses",
            frame_offset_));
      }
      length_ = claimed;
      payload_.clear();
    } else {
      const size_t take = static_cast<size_t>(
          std::min<uint64_t>(*length_ - payload_.size(), input.size() - pos));
      payload_.insert(payload_.end(), input.begin() + pos,
                      input.begin() + pos + take);
      pos += take;
      offset_ += take;
    }
    if (length_ && payload_.size() == *length_) {
      frames.push_back(std::move(payload_));
      payload_ = Bytes();
      length_.reset();
      prefix_ = Prefix();
      frame_offset_ = offset_;
    }
  }
  return absl::OkStatus();
}

absl::Status PrefixedDecoder::AtEnd() {
  if (length_) {
    return absl::DataLossError(absl::StrFormat(
        "truncated frame at end of stream: the frame at offset %d has %d of "
        "its %d payload bytes",
        frame_offset_, payload_.size(), *length_));
  }
  if (prefix_.bytes > 0) {
    return absl::DataLossError(absl::StrFormat(
        "truncated frame at end of stream: the length prefix at offset %d "
        "has only %d bytes",
        frame_offset_, prefix_.bytes));
  }
  return absl::OkStatus();
}

}  // namespace sockparity::internal
