#include <limits>

#include "absl/strings/str_format.h"
#include "codec/prefixed_decoder.h"
#include "sockparity/codec/codecs.h"

namespace sockparity {
namespace {

uint64_t WidthCapacity(int width) {
  return width == 8 ? std::numeric_limits<uint64_t>::max()
                    : (uint64_t{1} << (8 * width)) - 1;
}

class LengthPrefixedDecoder final : public internal::PrefixedDecoder {
 public:
  LengthPrefixedDecoder(const LengthPrefixOptions& options, uint64_t max)
      : PrefixedDecoder(max, options.allow_empty),
        width_(options.width),
        big_endian_(options.endian == Endian::kBig) {}

 protected:
  absl::StatusOr<std::optional<uint64_t>> PrefixByte(uint8_t byte,
                                                     Prefix& prefix,
                                                     uint64_t) override {
    if (big_endian_) {
      prefix.value = (prefix.value << 8) | byte;
    } else {
      prefix.value |= uint64_t{byte} << (8 * (prefix.bytes - 1));
    }
    if (prefix.bytes < width_) return std::nullopt;
    return prefix.value;
  }

 private:
  const int width_;
  const bool big_endian_;
};

class LengthPrefixedCodec final : public Codec {
 public:
  LengthPrefixedCodec(const LengthPrefixOptions& options, uint64_t max)
      : options_(options), max_(max) {}

  std::string Name() const override {
    return absl::StrFormat("u%d%s max=%d%s", options_.width * 8,
                           options_.endian == Endian::kBig ? "be" : "le", max_,
                           options_.allow_empty ? "" : " non-empty");
  }
  uint64_t max_frame() const override { return max_; }

  absl::Status Encode(absl::Span<const uint8_t> payload,
                      Bytes& out) const override {
    absl::Status refused =
        internal::CheckPayloadSize(*this, payload.size(), options_.allow_empty);
    if (!refused.ok()) return refused;
    const uint64_t length = payload.size();
    for (int i = 0; i < options_.width; ++i) {
      const int shift = options_.endian == Endian::kBig
                            ? 8 * (options_.width - 1 - i)
                            : 8 * i;
      out.push_back(static_cast<uint8_t>(length >> shift));
    }
    out.insert(out.end(), payload.begin(), payload.end());
    return absl::OkStatus();
  }

  std::unique_ptr<FrameDecoder> NewDecoder() const override {
    return std::make_unique<LengthPrefixedDecoder>(options_, max_);
  }

 private:
  const LengthPrefixOptions options_;
  const uint64_t max_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Codec>> MakeLengthPrefixedCodec(
    const LengthPrefixOptions& options) {
  const int width = options.width;
  if (width != 1 && width != 2 && width != 4 && width != 8) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "length prefix width %d is not one of 1, 2, 4, 8", width));
  }
  const uint64_t capacity = WidthCapacity(width);
  uint64_t max = std::min(kDefaultMaxFrame, capacity);
  if (options.max_frame) {
    if (*options.max_frame > capacity) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "max_frame %d does not fit a %d-byte length prefix (at most %d)",
          *options.max_frame, width, capacity));
    }
    max = *options.max_frame;
  }
  return std::make_unique<LengthPrefixedCodec>(options, max);
}

}  // namespace sockparity
