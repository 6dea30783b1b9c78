// The example's wire format: a 4-byte big-endian length, then the payload
// (1 to 16 MiB). The encoder and a streaming decoder that takes input split
// anywhere; shaped as sockparity's FramingCodec so its properties apply.
#ifndef SOCKPARITY_EXAMPLES_CONSUMER_FRAME_CODEC_H_
#define SOCKPARITY_EXAMPLES_CONSUMER_FRAME_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace echo {

inline constexpr uint32_t kMaxFrame = uint32_t{16} << 20;
using Bytes = std::vector<uint8_t>;

class FrameDecoder {
 public:
  // Appends each completed frame; the first error sticks.
  absl::Status Feed(absl::Span<const uint8_t> input,
                    std::vector<Bytes>& frames) {
    if (!status_.ok()) return status_;
    for (size_t i = 0; i < input.size();) {
      if (header_.size() < 4) {
        header_.push_back(input[i++]);
#ifdef ECHO_BROKEN_CODEC
        // The bug: a header split across two Feed calls loses its start.
        if (i == input.size() && header_.size() < 4) header_.clear();
#endif
        if (header_.size() < 4) continue;
        length_ = uint32_t{header_[0]} << 24 | uint32_t{header_[1]} << 16 |
                  uint32_t{header_[2]} << 8 | header_[3];
        if (length_ == 0 || length_ > kMaxFrame) {
          status_ = absl::InvalidArgumentError(
              "frame length " + std::to_string(length_) + " at offset " +
              std::to_string(offset_ + i - 4) + " is not in 1.." +
              std::to_string(kMaxFrame));
          return status_;
        }
        continue;
      }
      // Payload bytes are stored as they come, never reserved ahead.
      const size_t take =
          std::min<size_t>(length_ - payload_.size(), input.size() - i);
      payload_.insert(payload_.end(), input.begin() + i,
                      input.begin() + i + take);
      i += take;
      if (payload_.size() == length_) {
        frames.push_back(std::move(payload_));
        payload_.clear();
        header_.clear();
      }
    }
    offset_ += input.size();
    return status_;
  }

  absl::Status Finish() {
    if (status_.ok() && !header_.empty()) {
      status_ = absl::DataLossError("end of stream inside a frame at offset " +
                                    std::to_string(offset_));
    }
    return status_;
  }

 private:
  absl::Status status_;
  Bytes header_;
  Bytes payload_;
  uint32_t length_ = 0;
  uint64_t offset_ = 0;
};

class FrameCodec {
 public:
  absl::Status Encode(absl::Span<const uint8_t> payload, Bytes& out) const {
    if (payload.empty() || payload.size() > kMaxFrame) {
      return absl::InvalidArgumentError(
          "payload of " + std::to_string(payload.size()) +
          " bytes: frames carry 1.." + std::to_string(kMaxFrame));
    }
    const uint32_t n = static_cast<uint32_t>(payload.size());
    const uint8_t header[4] = {
        static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
        static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
    out.insert(out.end(), header, header + 4);
    out.insert(out.end(), payload.begin(), payload.end());
    return absl::OkStatus();
  }
  uint64_t max_frame() const { return kMaxFrame; }
  FrameDecoder NewDecoder() const { return FrameDecoder(); }
};

}  // namespace echo

#endif  // SOCKPARITY_EXAMPLES_CONSUMER_FRAME_CODEC_H_
