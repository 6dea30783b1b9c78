#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "codec/streaming_decoder.h"
#include "sockparity/codec/codecs.h"

namespace sockparity {
namespace {

class DelimitedDecoder final : public internal::StreamingDecoder {
 public:
  explicit DelimitedDecoder(const DelimitedOptions& options)
      : options_(options) {}

 private:
  absl::Status Decode(absl::Span<const uint8_t> input,
                      std::vector<Bytes>& frames) override {
    size_t pos = 0;
    while (pos < input.size()) {
      const auto* found = static_cast<const uint8_t*>(std::memchr(
          input.data() + pos, options_.delimiter, input.size() - pos));
      const size_t end = found != nullptr
                             ? static_cast<size_t>(found - input.data())
                             : input.size();
      const size_t take = end - pos;
      // The error does not depend on how the input was split: it comes at
      // the first byte past the maximum, wherever that falls.
      if (record_.size() + take > options_.max_frame) {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "record at offset %d runs past the maximum of %d bytes without a "
            "delimiter 0x%02x",
            record_offset_, options_.max_frame, options_.delimiter));
      }
      record_.insert(record_.end(), input.begin() + pos, input.begin() + end);
      offset_ += take;
      pos = end;
      if (found != nullptr) {
        ++pos;
        ++offset_;
        frames.push_back(std::move(record_));
        record_ = Bytes();
        record_offset_ = offset_;
      }
    }
    return absl::OkStatus();
  }

  absl::Status AtEnd() override {
    if (offset_ > record_offset_) {
      return absl::DataLossError(absl::StrFormat(
          "truncated record at end of stream: the record at offset %d has %d "
          "bytes and no delimiter 0x%02x",
          record_offset_, offset_ - record_offset_, options_.delimiter));
    }
    return absl::OkStatus();
  }

  const DelimitedOptions options_;
  uint64_t record_offset_ = 0;
  Bytes record_;
};

class DelimitedCodec final : public Codec {
 public:
  explicit DelimitedCodec(const DelimitedOptions& options)
      : options_(options) {}

  std::string Name() const override {
    return absl::StrFormat("delimited 0x%02x max=%d", options_.delimiter,
                           options_.max_frame);
  }
  uint64_t max_frame() const override { return options_.max_frame; }

  absl::Status Encode(absl::Span<const uint8_t> payload,
                      Bytes& out) const override {
    absl::Status refused =
        internal::CheckPayloadSize(*this, payload.size(), /*allow_empty=*/true);
    if (!refused.ok()) return refused;
    auto it = std::find(payload.begin(), payload.end(), options_.delimiter);
    if (it != payload.end()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: the payload holds the delimiter at index %d",
                          Name(), it - payload.begin()));
    }
    out.insert(out.end(), payload.begin(), payload.end());
    out.push_back(options_.delimiter);
    return absl::OkStatus();
  }

  std::unique_ptr<FrameDecoder> NewDecoder() const override {
    return std::make_unique<DelimitedDecoder>(options_);
  }

 private:
  const DelimitedOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Codec>> MakeDelimitedCodec(
    const DelimitedOptions& options) {
  return std::make_unique<DelimitedCodec>(options);
}

}  // namespace sockparity
