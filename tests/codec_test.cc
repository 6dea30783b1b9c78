// The framing codecs: round trips, input split at every byte, and every
// error path with its offset.
#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>

#include "sockparity/codec/codecs.h"
#include "test_util.h"

// Records the largest single allocation, to prove a decoder never reserves
// memory for a length it has only been told about. ThreadSanitizer's runtime
// defines operator new itself, so there the check is skipped.
#if defined(__SANITIZE_THREAD__)
#define SOCKPARITY_WATCH_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SOCKPARITY_WATCH_ALLOCATIONS 0
#endif
#endif
#ifndef SOCKPARITY_WATCH_ALLOCATIONS
#define SOCKPARITY_WATCH_ALLOCATIONS 1
#endif

namespace {
std::atomic<size_t> largest_allocation{0};

bool WatchingAllocations() { return SOCKPARITY_WATCH_ALLOCATIONS != 0; }
}  // namespace

#if SOCKPARITY_WATCH_ALLOCATIONS
void* operator new(size_t size) {
  size_t seen = largest_allocation.load(std::memory_order_relaxed);
  while (size > seen && !largest_allocation.compare_exchange_weak(seen, size)) {
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;

struct CodecCase {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<Codec>>(uint64_t max)> make;
};

void PrintTo(const CodecCase& codec, std::ostream* out) { *out << codec.name; }

std::vector<CodecCase> AllCodecs() {
  return {
      {"u8be",
       [](uint64_t max) {
         return MakeLengthPrefixedCodec(
             {.width = 1, .max_frame = std::min<uint64_t>(max, 255)});
       }},
      {"u16le",
       [](uint64_t max) {
         return MakeLengthPrefixedCodec(
             {.width = 2,
              .endian = Endian::kLittle,
              .max_frame = std::min<uint64_t>(max, 65535)});
       }},
      {"u32be",
       [](uint64_t max) {
         return MakeLengthPrefixedCodec({.max_frame = max});
       }},
      {"u64le",
       [](uint64_t max) {
         return MakeLengthPrefixedCodec(
             {.width = 8, .endian = Endian::kLittle, .max_frame = max});
       }},
      {"varint",
       [](uint64_t max) { return MakeVarintCodec({.max_frame = max}); }},
      {"delimited",
       [](uint64_t max) {
         return MakeDelimitedCodec({.delimiter = '\n', .max_frame = max});
       }},
  };
}

// Payloads that avoid '\n', so every codec can carry them.
std::vector<Bytes> SamplePayloads(uint64_t max) {
  std::vector<Bytes> payloads;
  for (size_t size : {0, 1, 2, 127, 128, 129, 255, 300, 4000}) {
    if (size > max) continue;
    Bytes payload(size);
    for (size_t i = 0; i < size; ++i) payload[i] = 'a' + (i * 7) % 26;
    payloads.push_back(payload);
  }
  return payloads;
}

// Feeds `stream` in the pieces `cuts` marks and finishes; returns the frames
// and the final status.
std::pair<std::vector<Bytes>, absl::Status> DecodeInPieces(
    const Codec& codec, const Bytes& stream, const std::vector<size_t>& cuts) {
  std::unique_ptr<FrameDecoder> decoder = codec.NewDecoder();
  std::vector<Bytes> frames;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    absl::Status status = decoder->Feed(
        absl::MakeConstSpan(stream).subspan(start, end - start), frames);
    if (!status.ok()) return {frames, status};
    start = end;
  }
  return {frames, decoder->Finish()};
}

class CodecTest : public ::testing::TestWithParam<CodecCase> {
 protected:
  std::unique_ptr<Codec> Make(uint64_t max = 1 << 20) {
    absl::StatusOr<std::unique_ptr<Codec>> codec = GetParam().make(max);
    EXPECT_TRUE(codec.ok()) << codec.status();
    return codec.ok() ? std::move(*codec) : nullptr;
  }
};

TEST_P(CodecTest, RoundTrip) {
  std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  const std::vector<Bytes> payloads = SamplePayloads(codec->max_frame());
  SP_ASSERT_OK_AND_ASSIGN(Bytes stream, EncodeAll(*codec, payloads));
  SP_ASSERT_OK_AND_ASSIGN(std::vector<Bytes> frames, DecodeAll(*codec, stream));
  EXPECT_EQ(frames, payloads);
}

TEST_P(CodecTest, SplitAtEveryByteGivesTheSameFrames) {
  std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  const std::vector<Bytes> payloads = {ToBytes(""), ToBytes("x"),
                                       Bytes(130, 'y'), ToBytes("last")};
  SP_ASSERT_OK_AND_ASSIGN(Bytes stream, EncodeAll(*codec, payloads));
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    auto [frames, status] = DecodeInPieces(*codec, stream, {cut});
    ASSERT_THAT(status, IsOk()) << "cut at " << cut;
    ASSERT_EQ(frames, payloads) << "cut at " << cut;
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
  auto [frames, status] = DecodeInPieces(*codec, stream, every_byte);
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(frames, payloads);
}

TEST_P(CodecTest, EncodeRefusesOversizePayload) {
  std::unique_ptr<Codec> codec = Make(10);
  ASSERT_NE(codec, nullptr);
  Bytes out;
  EXPECT_THAT(codec->Encode(Bytes(10, 'a'), out), IsOk());
  absl::Status status = codec->Encode(Bytes(11, 'a'), out);
  EXPECT_THAT(status, HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("over the maximum of 10"));
}

// A frame one byte over the maximum, after a valid one, is refused at its
// own offset however the input is split; the valid frame still comes out.
TEST_P(CodecTest, DecodeRefusesOversizeFrameAtItsOffset) {
  std::unique_ptr<Codec> big = Make(1000);
  std::unique_ptr<Codec> small = Make(10);
  ASSERT_NE(big, nullptr);
  ASSERT_NE(small, nullptr);
  SP_ASSERT_OK_AND_ASSIGN(Bytes stream,
                          EncodeAll(*big, {Bytes(10, 'a'), Bytes(11, 'b')}));
  SP_ASSERT_OK_AND_ASSIGN(Bytes first, EncodeAll(*big, {Bytes(10, 'a')}));
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    auto [frames, status] = DecodeInPieces(*small, stream, {cut});
    ASSERT_THAT(status, HasCode(absl::StatusCode::kResourceExhausted))
        << "cut at " << cut;
    EXPECT_THAT(status.message(),
                HasSubstr(absl::StrCat("offset ", first.size())));
    EXPECT_THAT(status.message(), HasSubstr("maximum of 10"));
    EXPECT_EQ(frames, std::vector<Bytes>{Bytes(10, 'a')}) << "cut at " << cut;
  }
}

TEST_P(CodecTest, TruncatedFrameAtEndOfStreamIsDataLoss) {
  std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  SP_ASSERT_OK_AND_ASSIGN(Bytes stream,
                          EncodeAll(*codec, {ToBytes("one"), ToBytes("two!")}));
  SP_ASSERT_OK_AND_ASSIGN(Bytes first, EncodeAll(*codec, {ToBytes("one")}));
  // Every proper prefix that ends inside the second frame.
  for (size_t end = first.size() + 1; end < stream.size(); ++end) {
    Bytes truncated(stream.begin(), stream.begin() + end);
    auto [frames, status] = DecodeInPieces(*codec, truncated, {});
    ASSERT_THAT(status, HasCode(absl::StatusCode::kDataLoss)) << "end " << end;
    EXPECT_THAT(status.message(), HasSubstr("truncated"));
    EXPECT_THAT(status.message(),
                HasSubstr(absl::StrCat("offset ", first.size())));
    EXPECT_EQ(frames, std::vector<Bytes>{ToBytes("one")});
  }
}

TEST_P(CodecTest, ErrorsAreStickyAndFeedAfterFinishIsRefused) {
  std::unique_ptr<Codec> small = Make(2);
  ASSERT_NE(small, nullptr);
  std::unique_ptr<Codec> big = Make();
  SP_ASSERT_OK_AND_ASSIGN(Bytes bad, EncodeAll(*big, {ToBytes("abc")}));
  std::unique_ptr<FrameDecoder> decoder = small->NewDecoder();
  std::vector<Bytes> frames;
  absl::Status first = decoder->Feed(bad, frames);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(decoder->Feed(ToBytes("\x01"), frames), first);
  EXPECT_EQ(decoder->Finish(), first);

  std::unique_ptr<FrameDecoder> finished = big->NewDecoder();
  ASSERT_THAT(finished->Finish(), IsOk());
  EXPECT_THAT(finished->Feed(ToBytes("x"), frames),
              HasCode(absl::StatusCode::kFailedPrecondition));
}

TEST_P(CodecTest, OffsetCountsConsumedBytes) {
  std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  SP_ASSERT_OK_AND_ASSIGN(Bytes stream, EncodeAll(*codec, {ToBytes("hello")}));
  std::unique_ptr<FrameDecoder> decoder = codec->NewDecoder();
  std::vector<Bytes> frames;
  ASSERT_THAT(decoder->Feed(stream, frames), IsOk());
  EXPECT_EQ(decoder->offset(), stream.size());
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest, ::testing::ValuesIn(AllCodecs()),
                         [](const ::testing::TestParamInfo<CodecCase>& info) {
                           return info.param.name;
                         });

TEST(LengthPrefixedCodecTest, EncodesWidthAndEndian) {
  const Bytes payload(258, 'p');
  struct Want {
    LengthPrefixOptions options;
    Bytes prefix;
  };
  for (const Want& want : std::vector<Want>{
           {{.width = 2, .endian = Endian::kBig}, {0x01, 0x02}},
           {{.width = 2, .endian = Endian::kLittle}, {0x02, 0x01}},
           {{.width = 4}, {0x00, 0x00, 0x01, 0x02}},
           {{.width = 8, .endian = Endian::kLittle},
            {0x02, 0x01, 0, 0, 0, 0, 0, 0}},
       }) {
    SP_ASSERT_OK_AND_ASSIGN(auto codec, MakeLengthPrefixedCodec(want.options));
    Bytes out;
    ASSERT_THAT(codec->Encode(payload, out), IsOk());
    EXPECT_EQ(Bytes(out.begin(), out.begin() + want.prefix.size()), want.prefix)
        << codec->Name();
    EXPECT_EQ(out.size(), want.prefix.size() + payload.size());
  }
}

TEST(LengthPrefixedCodecTest, RefusesBadOptions) {
  EXPECT_THAT(MakeLengthPrefixedCodec({.width = 3}).status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  absl::Status too_big =
      MakeLengthPrefixedCodec({.width = 2, .max_frame = 70000}).status();
  EXPECT_THAT(too_big.message(), HasSubstr("at most 65535"));
  SP_ASSERT_OK_AND_ASSIGN(auto one_byte, MakeLengthPrefixedCodec({.width = 1}));
  EXPECT_EQ(one_byte->max_frame(), 255u);
  SP_ASSERT_OK_AND_ASSIGN(auto u32, MakeLengthPrefixedCodec());
  EXPECT_EQ(u32->max_frame(), kDefaultMaxFrame);
  EXPECT_EQ(u32->Name(), "u32be max=16777216");
}

TEST(LengthPrefixedCodecTest, ZeroLengthRefusedWhenEmptyIsNotAllowed) {
  SP_ASSERT_OK_AND_ASSIGN(auto codec,
                          MakeLengthPrefixedCodec({.allow_empty = false}));
  Bytes out;
  EXPECT_THAT(codec->Encode({}, out),
              HasCode(absl::StatusCode::kInvalidArgument));
  const Bytes stream = {0, 0, 0, 1, 'E', 0, 0, 0, 0};
  auto result = DecodeAll(*codec, stream);
  EXPECT_THAT(result.status(), HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(result.status().message(), HasSubstr("offset 5 has length 0"));
}

// The 16 MiB length arrives; the 16 MiB do not. Nothing near that size
// may be allocated.
TEST(LengthPrefixedCodecTest, ClaimedLengthReservesNoMemory) {
  if (!WatchingAllocations()) GTEST_SKIP() << "operator new is the sanitizer's";
  SP_ASSERT_OK_AND_ASSIGN(auto codec, MakeLengthPrefixedCodec());
  std::unique_ptr<FrameDecoder> decoder = codec->NewDecoder();
  std::vector<Bytes> frames;
  frames.reserve(1);
  const Bytes claim = {0x01, 0x00, 0x00, 0x00, 'a', 'b', 'c'};
  largest_allocation = 0;
  ASSERT_THAT(decoder->Feed(claim, frames), IsOk());
  EXPECT_LT(largest_allocation.load(), size_t{4096});
  EXPECT_THAT(decoder->Finish(), HasCode(absl::StatusCode::kDataLoss));
}

TEST(VarintCodecTest, EncodesLeb128) {
  SP_ASSERT_OK_AND_ASSIGN(auto codec, MakeVarintCodec());
  Bytes out;
  ASSERT_THAT(codec->Encode(Bytes(300, 'v'), out), IsOk());
  EXPECT_EQ(out[0], 0xac);
  EXPECT_EQ(out[1], 0x02);
  EXPECT_EQ(out.size(), 302u);
}

struct MalformedVarint {
  Bytes prefix;
  std::string message;
};

TEST(VarintCodecTest, RefusesMalformedPrefixes) {
  SP_ASSERT_OK_AND_ASSIGN(auto codec,
                          MakeVarintCodec({.max_frame = ~uint64_t{0}}));
  for (const MalformedVarint& bad : std::vector<MalformedVarint>{
           {{0x80, 0x00}, "overlong encoding"},
           {{0x81, 0x80, 0x00}, "overlong encoding"},
           {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
            "overflows 64 bits"},
           {Bytes(10, 0x80), "longer than 10 bytes"},
       }) {
    // After one good frame, so the offset is not zero.
    Bytes stream = bad.prefix;
    stream.insert(stream.begin(), {0x01, 'E'});
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
      auto [frames, status] = DecodeInPieces(*codec, stream, {cut});
      ASSERT_THAT(status, HasCode(absl::StatusCode::kInvalidArgument));
      EXPECT_THAT(status.message(), HasSubstr(bad.message));
      EXPECT_THAT(status.message(), HasSubstr("at offset 2"));
      EXPECT_EQ(frames, std::vector<Bytes>{ToBytes("E")});
    }
  }
}

TEST(VarintCodecTest, LargestValueIsOversizeNotMalformed) {
  SP_ASSERT_OK_AND_ASSIGN(auto codec, MakeVarintCodec());
  const Bytes max_u64 = {0xff, 0xff, 0xff, 0xff, 0xff,
                         0xff, 0xff, 0xff, 0xff, 0x01};
  auto result = DecodeAll(*codec, max_u64);
  EXPECT_THAT(result.status(), HasCode(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(result.status().message(),
              HasSubstr("claims 18446744073709551615 bytes"));
}

TEST(DelimitedCodecTest, RefusesPayloadHoldingTheDelimiter) {
  SP_ASSERT_OK_AND_ASSIGN(auto codec, MakeDelimitedCodec());
  Bytes out;
  absl::Status status = codec->Encode(ToBytes("ab\ncd"), out);
  EXPECT_THAT(status, HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("delimiter at index 2"));
}

TEST(DelimitedCodecTest, OtherDelimiters) {
  SP_ASSERT_OK_AND_ASSIGN(auto codec, MakeDelimitedCodec({.delimiter = 0}));
  SP_ASSERT_OK_AND_ASSIGN(auto frames,
                          DecodeAll(*codec, Bytes{'a', 0, 0, 'b', '\n', 0}));
  EXPECT_EQ(frames,
            (std::vector<Bytes>{ToBytes("a"), ToBytes(""), ToBytes("b\n")}));
}

// Without a delimiter, a record is refused once it passes the maximum,
// having buffered no more than the maximum.
TEST(DelimitedCodecTest, RecordWithoutDelimiterIsBounded) {
  SP_ASSERT_OK_AND_ASSIGN(auto codec,
                          MakeDelimitedCodec({.max_frame = 64 * 1024}));
  std::unique_ptr<FrameDecoder> decoder = codec->NewDecoder();
  std::vector<Bytes> frames;
  ASSERT_THAT(decoder->Feed(ToBytes("ok\n"), frames), IsOk());
  const Bytes chunk(1000, 'x');
  absl::Status status;
  size_t fed = 0;
  largest_allocation = 0;
  while (status.ok() && fed < (size_t{1} << 20)) {
    status = decoder->Feed(chunk, frames);
    fed += chunk.size();
  }
  EXPECT_THAT(status, HasCode(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(status.message(), HasSubstr("record at offset 3"));
  EXPECT_EQ(fed, 66000u);  // the chunk that crossed 65536 bytes
  if (WatchingAllocations()) {
    EXPECT_LE(largest_allocation.load(), size_t{2} * 64 * 1024);
  }
}

}  // namespace
}  // namespace sockparity::testing
