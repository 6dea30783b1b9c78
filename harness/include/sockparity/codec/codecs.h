// The framing codecs sockparity ships.
#ifndef SOCKPARITY_CODEC_CODECS_H_
#define SOCKPARITY_CODEC_CODECS_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "sockparity/codec/codec.h"

namespace sockparity {

enum class Endian { kBig, kLittle };

// A fixed-width unsigned length, then that many payload bytes.
struct LengthPrefixOptions {
  int width = 4;  // 1, 2, 4 or 8 bytes
  Endian endian = Endian::kBig;
  // Unset: kDefaultMaxFrame, or the width's largest value if smaller.
  std::optional<uint64_t> max_frame{};
  bool allow_empty = true;  // whether a length of 0 is a frame or an error
};
absl::StatusOr<std::unique_ptr<Codec>> MakeLengthPrefixedCodec(
    const LengthPrefixOptions& options = {});

// An unsigned LEB128 length (at most 10 bytes, no overlong encodings), then
// that many payload bytes.
struct VarintOptions {
  uint64_t max_frame = kDefaultMaxFrame;
  bool allow_empty = true;
};
absl::StatusOr<std::unique_ptr<Codec>> MakeVarintCodec(
    const VarintOptions& options = {});

// Records ended by a delimiter byte, which no record may contain.
struct DelimitedOptions {
  uint8_t delimiter = '\n';
  uint64_t max_frame = kDefaultMaxFrame;  // record bytes, delimiter excluded
};
absl::StatusOr<std::unique_ptr<Codec>> MakeDelimitedCodec(
    const DelimitedOptions& options = {});

}  // namespace sockparity

#endif  // SOCKPARITY_CODEC_CODECS_H_
