// Delimited decoder. Input: the delimiter byte, one byte choosing the
// maximum, four bytes of split sizes, then the stream.
#include "fuzz_util.h"
#include "sockparity/codec/codecs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  if (size < 6) return 0;
  sockparity::DelimitedOptions options;
  options.delimiter = data[0];
  options.max_frame = uint64_t{1} << (data[1] % 17);
  auto codec = sockparity::MakeDelimitedCodec(options);
  if (!codec.ok()) sockparity::fuzz::Finding("valid options refused");
  sockparity::fuzz::CheckDecoder(**codec,
                                 absl::MakeConstSpan(data + 6, size - 6),
                                 absl::MakeConstSpan(data + 2, 4));
  return 0;
}
