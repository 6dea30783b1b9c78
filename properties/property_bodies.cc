#include "property_bodies.h"

#include <poll.h>
#include <rapidcheck.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "sockparity/codec/codecs.h"
#include "sockparity/testing/framing_properties.h"
#include "sockparity/net/io.h"
#include "sockparity/script/script_gen.h"
#include "sockparity/net/socket.h"
#include "sockparity/script/trace.h"

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

// The generated payloads a codec can carry: no delimiter inside a
// delimited frame.
testing::FramingOptions OptionsFor(const Codec& codec) {
  testing::FramingOptions options;
  if (codec.Name().rfind("delimited", 0) == 0) {
    options.make_carriable = [](Bytes& bytes) {
      for (uint8_t& b : bytes) b = b == '\n' ? ' ' : b;
    };
  }
  // Headers claiming max_frame() + 1 (65,537) for the codecs whose header
  // can say so.
  if (codec.Name().rfind("u32be", 0) == 0)
    options.oversize_header = {0, 1, 0, 1};
  if (codec.Name().rfind("u64be", 0) == 0) {
    options.oversize_header = {0, 0, 0, 0, 0, 1, 0, 1};
  }
  if (codec.Name().rfind("varint", 0) == 0) {
    options.oversize_header = {0x81, 0x80, 0x04};
  }
  return options;
}

}  // namespace

void BadInputRefusedCheaply(const Codec& codec) {
  testing::CheckRefusesBadInputCheaply(codec, OptionsFor(codec));
}

void FramingOverTheWire(const Codec& codec, TransportKind kind) {
  testing::CheckRoundTripOverTransport(codec, kind, OptionsFor(codec));
}

void DecoderSplitInvariance(const Codec& codec) {
  testing::CheckSplitInvariance(codec, OptionsFor(codec));
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
