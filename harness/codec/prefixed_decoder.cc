#include "codec/prefixed_decoder.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace sockparity::internal {

absl::Status PrefixedDecoder::Fail(absl::Status status) {
  error_ = std::move(status);
  return error_;
}

absl::Status PrefixedDecoder::Feed(absl::Span<const uint8_t> input,
                                   std::vector<Bytes>& frames) {
  if (!error_.ok()) return error_;
  if (finished_) {
    return Fail(absl::FailedPreconditionError(
        absl::StrFormat("%d bytes fed at offset %d after end of stream",
                        input.size(), offset_)));
  }
  size_t pos = 0;
  while (pos < input.size()) {
    if (!length_) {
      absl::StatusOr<std::optional<uint64_t>> length =
          PrefixByte(input[pos], frame_offset_);
      ++pos;
      ++offset_;
      if (!length.ok()) return Fail(length.status());
      if (!length->has_value()) continue;
      const uint64_t claimed = **length;
      if (claimed > max_frame_) {
        return Fail(absl::ResourceExhaustedError(absl::StrFormat(
            "frame at offset %d claims %d bytes, over the maximum of %d",
            frame_offset_, claimed, max_frame_)));
      }
      if (claimed == 0 && !allow_empty_) {
        return Fail(absl::InvalidArgumentError(absl::StrFormat(
            "frame at offset %d has length 0, which this codec refuses",
            frame_offset_)));
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
      ResetPrefix();
      frame_offset_ = offset_;
    }
  }
  return absl::OkStatus();
}

absl::Status PrefixedDecoder::Finish() {
  if (!error_.ok()) return error_;
  finished_ = true;
  if (length_) {
    return Fail(absl::DataLossError(absl::StrFormat(
        "truncated frame at end of stream: the frame at offset %d has %d of "
        "its %d payload bytes",
        frame_offset_, payload_.size(), *length_)));
  }
  if (prefix_bytes() > 0) {
    return Fail(absl::DataLossError(absl::StrFormat(
        "truncated frame at end of stream: the length prefix at offset %d "
        "has only %d bytes",
        frame_offset_, prefix_bytes())));
  }
  return absl::OkStatus();
}

}  // namespace sockparity::internal
