// Length-prefixed decoder. Input: one byte of configuration (width, endian,
// allow_empty), one byte choosing the maximum, four bytes of split sizes,
// then the stream.
#include "fuzz_util.h"
#include "sockparity/codec/codecs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  if (size < 6) return 0;
  static constexpr int kWidths[] = {1, 2, 4, 8};
  sockparity::LengthPrefixOptions options;
  options.width = kWidths[data[0] & 3];
  options.endian =
      (data[0] & 4) ? sockparity::Endian::kLittle : sockparity::Endian::kBig;
  options.allow_empty = (data[0] & 8) == 0;
  options.max_frame = std::min<uint64_t>(uint64_t{1} << (data[1] % 17),
                                         options.width == 1 ? 255 : 65535);
  auto codec = sockparity::MakeLengthPrefixedCodec(options);
  if (!codec.ok()) sockparity::fuzz::Finding("valid options refused");
  sockparity::fuzz::CheckDecoder(**codec,
                                 absl::MakeConstSpan(data + 6, size - 6),
                                 absl::MakeConstSpan(data + 2, 4));
  return 0;
}
