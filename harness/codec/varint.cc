#include "absl/strings/str_format.h"
#include "codec/prefixed_decoder.h"
#include "sockparity/codec/codecs.h"

namespace sockparity {
namespace {

constexpr int kMaxVarintBytes = 10;  // ceil(64 / 7)

class VarintDecoder final : public internal::PrefixedDecoder {
 public:
  explicit VarintDecoder(const VarintOptions& options)
      : PrefixedDecoder(options.max_frame, options.allow_empty) {}

 protected:
  absl::StatusOr<std::optional<uint64_t>> PrefixByte(
      uint8_t byte, Prefix& prefix, uint64_t frame_offset) override {
    const uint64_t digit = byte & 0x7f;
    if (prefix.bytes == kMaxVarintBytes && digit > 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "malformed varint length at offset %d: its value overflows 64 bits",
          frame_offset));
    }
    prefix.value |= digit << (7 * (prefix.bytes - 1));
    if (byte & 0x80) {
      if (prefix.bytes == kMaxVarintBytes) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "malformed varint length at offset %d: longer than %d bytes",
            frame_offset, kMaxVarintBytes));
      }
      return std::nullopt;
    }
    // A zero last byte after others adds nothing: a shorter form exists.
    if (prefix.bytes > 1 && byte == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "malformed varint length at offset %d: overlong encoding (%d bytes "
          "for %d)",
          frame_offset, prefix.bytes, prefix.value));
    }
    return prefix.value;
  }
};

class VarintCodec final : public Codec {
 public:
  explicit VarintCodec(const VarintOptions& options) : options_(options) {}

  std::string Name() const override {
    return absl::StrFormat("varint max=%d%s", options_.max_frame,
                           options_.allow_empty ? "" : " non-empty");
  }
  uint64_t max_frame() const override { return options_.max_frame; }

  absl::Status Encode(absl::Span<const uint8_t> payload,
                      Bytes& out) const override {
    absl::Status refused =
        internal::CheckPayloadSize(*this, payload.size(), options_.allow_empty);
    if (!refused.ok()) return refused;
    uint64_t length = payload.size();
    do {
      uint8_t byte = length & 0x7f;
      length >>= 7;
      out.push_back(length != 0 ? (byte | 0x80) : byte);
    } while (length != 0);
    out.insert(out.end(), payload.begin(), payload.end());
    return absl::OkStatus();
  }

  std::unique_ptr<FrameDecoder> NewDecoder() const override {
    return std::make_unique<VarintDecoder>(options_);
  }

 private:
  const VarintOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Codec>> MakeVarintCodec(
    const VarintOptions& options) {
  return std::make_unique<VarintCodec>(options);
}

}  // namespace sockparity
