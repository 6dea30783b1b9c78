#include "property_bodies.h"

#include <poll.h>
#include <rapidcheck.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "sockparity/codecs.h"
#include "sockparity/io.h"
#include "sockparity/script_gen.h"
#include "sockparity/socket.h"
#include "sockparity/trace.h"

namespace sockparity::properties {

std::vector<std::string> CodecNames() {
  return {"u32be", "u16le", "u8be", "u64be", "varint", "delimited"};
}

std::unique_ptr<Codec> MakeCodec(const std::string& name) {
  absl::StatusOr<std::unique_ptr<Codec>> codec;
  if (name == "u32be") codec = MakeLengthPrefixedCodec({.max_frame = 1 << 16});
  if (name == "u16le") {
    codec = MakeLengthPrefixedCodec({.width = 2, .endian = Endian::kLittle});
  }
  if (name == "u8be") codec = MakeLengthPrefixedCodec({.width = 1});
  if (name == "u64be")
    codec = MakeLengthPrefixedCodec({.width = 8, .max_frame = 1 << 16});
  if (name == "varint") codec = MakeVarintCodec({.max_frame = 1 << 16});
  if (name == "delimited") codec = MakeDelimitedCodec({.max_frame = 1 << 16});
  return codec.ok() ? std::move(*codec) : nullptr;
}

namespace {

// Uniform bytes: arbitrary<uint8_t> grows with the test size, so early
// cases would hold only small bytes (no varint continuation bit, no large
// length byte).
rc::Gen<uint8_t> AnyByte() {
  return rc::gen::cast<uint8_t>(rc::gen::inRange<int>(0, 256));
}

// Payloads the codec can carry (short for u8, no delimiter for delimited),
// from empty through a few bytes to thousands, so off-by-ones at any size
// and headers of every width show up.
rc::Gen<Bytes> PayloadFor(const Codec& codec) {
  const size_t max =
      static_cast<size_t>(std::min<uint64_t>(codec.max_frame(), 3000));
  const bool delimited = codec.Name().rfind("delimited", 0) == 0;
  return rc::gen::mapcat(
      rc::gen::oneOf(
          rc::gen::inRange<size_t>(0, std::min<size_t>(9, max + 1)),
          rc::gen::inRange<size_t>(0, std::min<size_t>(300, max + 1)),
          rc::gen::inRange<size_t>(0, max + 1)),
      [delimited](size_t size) {
        return rc::gen::map(rc::gen::container<Bytes>(size, AnyByte()),
                            [delimited](Bytes bytes) {
                              if (delimited) {
                                for (uint8_t& b : bytes)
                                  b = b == '\n' ? ' ' : b;
                              }
                              return bytes;
                            });
      });
}

rc::Gen<std::vector<Bytes>> MessagesFor(const Codec& codec) {
  return rc::gen::container<std::vector<Bytes>>(PayloadFor(codec));
}

// Piece sizes for splitting a stream: single bytes, a few bytes (a header
// split across writes), and large chunks.
rc::Gen<std::vector<size_t>> PieceSizes() {
  return rc::gen::container<std::vector<size_t>>(
      rc::gen::oneOf(rc::gen::just<size_t>(1), rc::gen::inRange<size_t>(1, 8),
                     rc::gen::inRange<size_t>(1, 2048)));
}

// Cuts `size` bytes into pieces of the generated sizes, the last piece
// taking what is left.
std::vector<size_t> Pieces(size_t size, const std::vector<size_t>& sizes) {
  std::vector<size_t> pieces;
  size_t done = 0;
  for (size_t s : sizes) {
    if (done >= size) break;
    size_t take = std::min(s, size - done);
    pieces.push_back(take);
    done += take;
  }
  if (done < size) pieces.push_back(size - done);
  return pieces;
}

}  // namespace

void FramingOverTheWire(const Codec& codec, TransportKind kind) {
  const std::vector<Bytes> messages = *MessagesFor(codec);
  absl::StatusOr<Bytes> stream = EncodeAll(codec, messages);
  RC_ASSERT(stream.ok());
  const std::vector<size_t> pieces = Pieces(stream->size(), *PieceSizes());
  // Pacing spaces a few writes out so the reader sees a partial header
  // or frame on its own; it paces the stimulus, it waits for no outcome.
  const bool paced = *rc::gen::arbitrary<bool>();
  absl::StatusOr<SocketPair> pair = MakeConnectedPair(kind);
  RC_ASSERT(pair.ok());
  std::vector<Bytes> frames;
  absl::Status decoded;
  std::thread reader([&] {
    std::unique_ptr<FrameDecoder> decoder = codec.NewDecoder();
    while (decoded.ok()) {
      absl::StatusOr<Bytes> got = RecvSome(pair->b, 4096, absl::Seconds(10));
      if (!got.ok()) {
        decoded = got.status();
        return;
      }
      if (got->empty()) {
        decoded = decoder->Finish();
        return;
      }
      decoded = decoder->Feed(*got, frames);
    }
  });
  absl::Status sent;
  size_t offset = 0;
  for (size_t i = 0; i < pieces.size() && sent.ok(); ++i) {
    sent = SendAll(pair->a,
                   absl::MakeConstSpan(*stream).subspan(offset, pieces[i]));
    offset += pieces[i];
    if (paced && i < 8)
      std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  if (sent.ok()) sent = Shutdown(pair->a, SHUT_WR);
  reader.join();
  RC_ASSERT(sent.ok());
  RC_ASSERT(decoded.ok());
  RC_ASSERT(frames == messages);
}

void DecoderSplitInvariance(const Codec& codec) {
  // Valid streams, damaged ones and plain noise all count.
  Bytes input;
  if (*rc::gen::inRange(0, 3) == 0) {
    input = *rc::gen::container<Bytes>(AnyByte());
  } else {
    absl::StatusOr<Bytes> stream = EncodeAll(codec, *MessagesFor(codec));
    RC_ASSERT(stream.ok());
    input = std::move(*stream);
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
    std::unique_ptr<FrameDecoder> decoder = codec.NewDecoder();
    std::vector<Bytes> frames;
    absl::Status status;
    size_t offset = 0;
    for (size_t piece : pieces) {
      status = decoder->Feed(absl::MakeConstSpan(input).subspan(offset, piece),
                             frames);
      offset += piece;
      if (!status.ok()) break;
    }
    if (status.ok()) status = decoder->Finish();
    return std::make_pair(frames, status);
  };
  const auto whole = decode({input.size()});
  const auto split = decode(Pieces(input.size(), *PieceSizes()));
  RC_ASSERT(whole.first == split.first);
  RC_ASSERT(whole.second == split.second);
}

void DifferentialLifecycle(const DifferenceRegistry& registry) {
  const Script script = *rc::gen::exec([] {
    return GenerateLifecycleScript([](uint32_t n) {
      return n <= 1 ? 0u : *rc::gen::inRange<uint32_t>(0, n);
    });
  });
  std::vector<Trace> traces;
  for (TransportKind kind : kAllTransportKinds) {
    if (!TransportAvailability(kind).ok()) continue;
    absl::StatusOr<Trace> trace = RunScript(script, kind);
    RC_ASSERT(trace.ok());
    traces.push_back(std::move(*trace));
  }
  for (size_t i = 0; i < traces.size(); ++i) {
    for (size_t j = i + 1; j < traces.size(); ++j) {
      Comparison comparison =
          CompareTraces(script, traces[i], traces[j], registry);
      if (comparison.verdict != Comparison::Verdict::kDiverged) continue;
      // Shrinking only keeps failing scripts, so the last one written here
      // is the smallest found.
      if (const char* dir = std::getenv("SOCKPARITY_FAILURE_DIR")) {
        std::ofstream(absl::StrCat(dir, "/lifecycle-failure.script"))
            << "# " << comparison.Describe() << "\n"
            << FormatScript(script);
      }
      RC_FAIL(absl::StrCat(
          TransportName(traces[i].kind), " vs ", TransportName(traces[j].kind),
          ": ", comparison.Describe(),
          "\nSave this script under corpus/scripts/ and replay it with "
          "'sockparity replay FILE':\n",
          FormatScript(script)));
    }
  }
}

}  // namespace sockparity::properties
