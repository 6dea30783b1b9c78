// Encode, split, decode: any messages, through any codec, in any pieces,
// come back the same. Input: a codec byte, then messages as (length byte,
// bytes); split sizes are taken from the message bytes.
#include "fuzz_util.h"
#include "sockparity/codec/codecs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  if (size < 1) return 0;
  absl::StatusOr<std::unique_ptr<sockparity::Codec>> codec;
  switch (data[0] % 4) {
    case 0:
      codec = sockparity::MakeLengthPrefixedCodec();
      break;
    case 1:
      codec = sockparity::MakeLengthPrefixedCodec({.width = 1});
      break;
    case 2:
      codec = sockparity::MakeVarintCodec();
      break;
    default:
      codec = sockparity::MakeDelimitedCodec({.delimiter = data[0]});
      break;
  }
  if (!codec.ok()) sockparity::fuzz::Finding("valid options refused");
  std::vector<sockparity::Bytes> messages;
  size_t pos = 1;
  while (pos < size) {
    const uint8_t claimed = data[pos++];
    const size_t length = std::min<size_t>(claimed, size - pos);
    sockparity::Bytes message(data + pos, data + pos + length);
    pos += length;
    if (data[0] % 4 == 3) {
      for (uint8_t& b : message)
        b = b == data[0] ? static_cast<uint8_t>(b + 1) : b;
    }
    messages.push_back(std::move(message));
  }
  absl::StatusOr<sockparity::Bytes> stream =
      sockparity::EncodeAll(**codec, messages);
  if (!stream.ok())
    sockparity::fuzz::Finding("a carriable message was refused");
  std::unique_ptr<sockparity::FrameDecoder> decoder = (*codec)->NewDecoder();
  std::vector<sockparity::Bytes> frames;
  size_t offset = 0, next = 0;
  while (offset < stream->size()) {
    size_t piece =
        std::min<size_t>(1 + data[next++ % size] % 7, stream->size() - offset);
    if (!decoder
             ->Feed(absl::MakeConstSpan(*stream).subspan(offset, piece), frames)
             .ok()) {
      sockparity::fuzz::Finding("the decoder refused what the encoder wrote");
    }
    offset += piece;
  }
  if (!decoder->Finish().ok())
    sockparity::fuzz::Finding("truncated at the end of a whole stream");
  if (frames != messages)
    sockparity::fuzz::Finding("messages changed on the way");
  return 0;
}
