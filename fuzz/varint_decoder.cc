// Varint (LEB128) decoder. Input: one byte of configuration (allow_empty,
// maximum), four bytes of split sizes, then the stream.
#include "fuzz_util.h"
#include "sockparity/codec/codecs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  if (size < 5) return 0;
  sockparity::VarintOptions options;
  options.allow_empty = (data[0] & 0x80) == 0;
  options.max_frame = uint64_t{1} << (data[0] % 17);
  auto codec = sockparity::MakeVarintCodec(options);
  if (!codec.ok()) sockparity::fuzz::Finding("valid options refused");
  sockparity::fuzz::CheckDecoder(**codec,
                                 absl::MakeConstSpan(data + 5, size - 5),
                                 absl::MakeConstSpan(data + 1, 4));
  return 0;
}
