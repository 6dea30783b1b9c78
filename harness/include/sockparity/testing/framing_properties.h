// RapidCheck properties for anyone's framing code: call them inside
// RC_GTEST_PROP (rapidcheck/gtest.h) or rc::check. A codec that breaks one
// gets a shrunk counterexample and RapidCheck's seed, not a crash of the run.
//
// What a codec must offer (the FramingCodec concept below):
//
//   struct MyCodec {
//     // Appends one frame carrying `payload` to `out`; may refuse a payload
//     // it cannot carry (the properties only generate ones it can).
//     absl::Status Encode(absl::Span<const uint8_t> payload,
//                         std::vector<uint8_t>& out) const;
//     // The largest payload the decoder accepts.
//     uint64_t max_frame() const;
//     // A fresh streaming decoder, by value or as a (smart) pointer.
//     MyDecoder NewDecoder() const;
//   };
//   struct MyDecoder {
//     // Consumes all of `input`, appending each frame it completes; once it
//     // fails it keeps returning that error.
//     absl::Status Feed(absl::Span<const uint8_t> input,
//                       std::vector<std::vector<uint8_t>>& frames);
//     // End of stream: an error if a frame was left incomplete.
//     absl::Status Finish();
//   };
//
// sockparity's own codecs (sockparity/codecs.h) are FramingCodecs.
#ifndef SOCKPARITY_TESTING_FRAMING_PROPERTIES_H_
#define SOCKPARITY_TESTING_FRAMING_PROPERTIES_H_

#include <malloc.h>
#include <rapidcheck.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/io.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/transport.h"

namespace sockparity::testing {

namespace framing_internal {
// NewDecoder() may give the decoder itself or a pointer to it.
template <typename T>
auto& Deref(T& made) {
  if constexpr (requires { made->Finish(); }) {
    return *made;
  } else {
    return made;
  }
}
template <typename C>
using DecoderType = std::remove_reference_t<decltype(Deref(
    std::declval<decltype(std::declval<const C&>().NewDecoder())&>()))>;
}  // namespace framing_internal

template <typename D>
concept StreamingDecoder = requires(D& decoder, absl::Span<const uint8_t> input,
                                    std::vector<Bytes>& frames) {
  { decoder.Feed(input, frames) } -> std::same_as<absl::Status>;
  { decoder.Finish() } -> std::same_as<absl::Status>;
};

template <typename C>
concept FramingCodec = requires(const C& codec,
                                absl::Span<const uint8_t> payload, Bytes& out) {
  { codec.Encode(payload, out) } -> std::same_as<absl::Status>;
  { codec.max_frame() } -> std::convertible_to<uint64_t>;
  requires StreamingDecoder<framing_internal::DecoderType<C>>;
};

struct FramingOptions {
  // Generated payloads are at least min_payload and at most max_payload
  // (and max_frame()) bytes long: set min_payload to 1 for a format that
  // cannot carry an empty frame.
  size_t min_payload = 0;
  size_t max_payload = 3000;
  // Makes a generated payload one the codec can carry (e.g. removes the
  // delimiter of a delimited codec). Empty: every payload is carried.
  std::function<void(Bytes&)> make_carriable;
  // The first bytes of a frame whose header claims more than max_frame()
  // (e.g. {0x01, 0x00, 0x00, 0x01} for a 4-byte big-endian length and a
  // 16 MiB limit). When given, the decoder must refuse it once these bytes
  // are in, before any payload.
  Bytes oversize_header;
  // A decoder may hold what it was fed and the frames it made, plus this;
  // more means it reserved memory for bytes that have not arrived.
  size_t memory_slack = size_t{1} << 20;
};

namespace framing_internal {

// Uniform bytes: RapidCheck's arbitrary<uint8_t> grows with the test size,
// so early cases would only hold small bytes.
inline rc::Gen<uint8_t> AnyByte() {
  return rc::gen::cast<uint8_t>(rc::gen::inRange<int>(0, 256));
}

template <FramingCodec C>
rc::Gen<std::vector<Bytes>> Messages(const C& codec,
                                     const FramingOptions& options) {
  const size_t max = static_cast<size_t>(std::min<uint64_t>(
      static_cast<uint64_t>(codec.max_frame()), options.max_payload));
  const size_t min = std::min(options.min_payload, max);
  // From a few bytes through hundreds to the most allowed, so off-by-ones
  // at any size and headers of every width show up.
  auto up_to = [min](size_t end) {
    return rc::gen::inRange<size_t>(min, std::max(end, min + 1));
  };
  auto payload = rc::gen::mapcat(
      rc::gen::oneOf(up_to(std::min<size_t>(9, max + 1)),
                     up_to(std::min<size_t>(300, max + 1)), up_to(max + 1)),
      [options](size_t size) {
        return rc::gen::map(rc::gen::container<Bytes>(size, AnyByte()),
                            [options](Bytes bytes) {
                              if (options.make_carriable) {
                                options.make_carriable(bytes);
                              }
                              return bytes;
                            });
      });
  return rc::gen::container<std::vector<Bytes>>(payload);
}

template <FramingCodec C>
Bytes EncodeOrFail(const C& codec, const std::vector<Bytes>& messages) {
  Bytes stream;
  for (const Bytes& message : messages) {
    absl::Status encoded = codec.Encode(message, stream);
    if (!encoded.ok()) {
      RC_FAIL(absl::StrCat("Encode refused a ", message.size(),
                           "-byte payload: ", encoded.ToString()));
    }
  }
  return stream;
}

// Piece sizes: single bytes, a few (a header split across calls), large.
inline rc::Gen<std::vector<size_t>> PieceSizes() {
  return rc::gen::container<std::vector<size_t>>(
      rc::gen::oneOf(rc::gen::just<size_t>(1), rc::gen::inRange<size_t>(1, 8),
                     rc::gen::inRange<size_t>(1, 2048)));
}

// Cuts `size` bytes into pieces of the given sizes; the last takes the rest.
inline std::vector<size_t> Pieces(size_t size,
                                  const std::vector<size_t>& sizes) {
  std::vector<size_t> pieces;
  size_t done = 0;
  for (size_t s : sizes) {
    if (done >= size) break;
    const size_t take = std::min(s, size - done);
    pieces.push_back(take);
    done += take;
  }
  if (done < size) pieces.push_back(size - done);
  return pieces;
}

// Feeds `input` to `decoder` in `pieces`, stopping at the first error;
// `after_each(offset)` runs after every piece (offset: bytes fed so far).
template <typename Decoder, typename AfterEach>
absl::Status FeedInPieces(Decoder& decoder, const Bytes& input,
                          const std::vector<size_t>& pieces,
                          std::vector<Bytes>& frames,
                          const AfterEach& after_each) {
  absl::Status status;
  size_t offset = 0;
  for (size_t piece : pieces) {
    status =
        decoder.Feed(absl::MakeConstSpan(input).subspan(offset, piece), frames);
    offset += piece;
    after_each(offset);
    if (!status.ok()) break;
  }
  return status;
}

// Heap bytes in use (glibc); 0 where the allocator does not say (under
// AddressSanitizer), which turns the memory checks off rather than wrong.
inline size_t HeapInUse() {
  struct mallinfo2 info = ::mallinfo2();
  return info.uordblks + info.hblkhd;
}

}  // namespace framing_internal

// 1. Messages encoded by `codec`, written over a connected pair of `kind` in
// writes of generated sizes (the first few paced so the reader sees partial
// headers), decode on the other side to the same messages.
template <FramingCodec C>
void CheckRoundTripOverTransport(const C& codec, TransportKind kind,
                                 const FramingOptions& options = {}) {
  using namespace framing_internal;
  const std::vector<Bytes> messages = *Messages(codec, options);
  const Bytes stream = EncodeOrFail(codec, messages);
  const std::vector<size_t> pieces = Pieces(stream.size(), *PieceSizes());
  const bool paced = *rc::gen::arbitrary<bool>();
  absl::StatusOr<SocketPair> pair = MakeConnectedPair(kind);
  RC_ASSERT(pair.ok());
  std::vector<Bytes> frames;
  absl::Status decoded;
  std::thread reader([&] {
    auto made = codec.NewDecoder();
    auto& decoder = Deref(made);
    Bytes buffer(4096);
    while (decoded.ok()) {
      absl::StatusOr<size_t> got =
          RecvSomeInto(pair->b, absl::MakeSpan(buffer), absl::Seconds(10));
      if (!got.ok()) {
        decoded = got.status();
        return;
      }
      if (*got == 0) {
        decoded = decoder.Finish();
        return;
      }
      decoded =
          decoder.Feed(absl::MakeConstSpan(buffer).subspan(0, *got), frames);
    }
  });
  absl::Status sent;
  size_t offset = 0;
  for (size_t i = 0; i < pieces.size() && sent.ok(); ++i) {
    sent = SendAll(pair->a,
                   absl::MakeConstSpan(stream).subspan(offset, pieces[i]));
    offset += pieces[i];
    // Pacing a stimulus (a partial header on its own), not waiting for an
    // outcome.
    if (paced && i < 8) {
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  }
  if (sent.ok()) sent = Shutdown(pair->a, SHUT_WR);
  reader.join();
  RC_ASSERT(sent.ok());
  if (!decoded.ok()) RC_FAIL(decoded.ToString());
  RC_ASSERT(frames == messages);
}

// 2. Any bytes (valid streams, damaged or cut short ones, noise) fed whole
// or split at any points give the same frames and the same status.
template <FramingCodec C>
void CheckSplitInvariance(const C& codec, const FramingOptions& options = {}) {
  using namespace framing_internal;
  Bytes input;
  if (*rc::gen::inRange(0, 3) == 0) {
    input = *rc::gen::container<Bytes>(AnyByte());
  } else {
    input = EncodeOrFail(codec, *Messages(codec, options));
    const auto damage =
        *rc::gen::container<std::vector<std::pair<size_t, uint8_t>>>(
            rc::gen::pair(rc::gen::inRange<size_t>(0, 1 << 16), AnyByte()));
    for (const auto& [at, value] : damage) {
      if (!input.empty()) input[at % input.size()] = value;
    }
    if (!input.empty() && *rc::gen::arbitrary<bool>()) {
      input.resize(*rc::gen::inRange<size_t>(0, input.size()));
    }
  }
  auto decode = [&](const std::vector<size_t>& pieces) {
    auto made = codec.NewDecoder();
    auto& decoder = Deref(made);
    std::vector<Bytes> frames;
    absl::Status status =
        FeedInPieces(decoder, input, pieces, frames, [](size_t) {});
    if (status.ok()) status = decoder.Finish();
    return std::make_pair(frames, status);
  };
  const auto whole = decode({input.size()});
  const auto split = decode(Pieces(input.size(), *PieceSizes()));
  RC_ASSERT(whole.first == split.first);
  RC_ASSERT(whole.second == split.second);
}

// 3. Malformed and oversize input is refused without reserving memory: fed
// any bytes in any pieces, the decoder never holds much more than it was
// fed, and its first error stays; the oversize header (if given) is refused
// as soon as it is in, before any payload.
template <FramingCodec C>
void CheckRefusesBadInputCheaply(const C& codec,
                                 const FramingOptions& options = {}) {
  using namespace framing_internal;
  Bytes input = *rc::gen::container<Bytes>(AnyByte());
  const bool oversize =
      !options.oversize_header.empty() && *rc::gen::inRange(0, 2) == 0;
  if (oversize) input = options.oversize_header;
  const std::vector<size_t> pieces = Pieces(input.size(), *PieceSizes());
  const size_t before = HeapInUse();
  auto made = codec.NewDecoder();
  auto& decoder = Deref(made);
  std::vector<Bytes> frames;
  std::string reserved;  // set when the decoder held too much
  const absl::Status status =
      FeedInPieces(decoder, input, pieces, frames, [&](size_t offset) {
        if (before == 0 || !reserved.empty()) return;
        const size_t now = HeapInUse();
        const size_t held = now > before ? now - before : 0;
        if (held > 3 * offset + options.memory_slack) {
          reserved =
              absl::StrCat("after ", offset, " bytes the decoder holds ", held,
                           " more heap bytes: it reserved memory for "
                           "bytes that have not arrived");
        }
      });
  if (!reserved.empty()) RC_FAIL(reserved);
  if (oversize) {
    if (status.ok()) {
      RC_FAIL(absl::StrCat("the oversize header (", input.size(),
                           " bytes) was not refused once it was in"));
    }
  }
  if (!status.ok()) {
    // The error is sticky.
    const uint8_t more[] = {0, 1, 2};
    RC_ASSERT(decoder.Feed(more, frames) == status);
    RC_ASSERT(decoder.Finish() == status);
  }
}

}  // namespace sockparity::testing

#endif  // SOCKPARITY_TESTING_FRAMING_PROPERTIES_H_
