#include "property_bodies.h"

#include <poll.h>
#include <rapidcheck.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sockparity/codec/codecs.h"
#include "sockparity/net/io.h"
#include "sockparity/net/socket.h"
#include "sockparity/script/differential.h"
#include "sockparity/script/finding.h"
#include "sockparity/script/script_gen.h"
#include "sockparity/testing/framing_properties.h"

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

rc::Gen<uint32_t> LifecycleChoice(uint32_t n) {
  if (n <= 1) return rc::gen::just(0u);
  // At RapidCheck's nominal size, not the test's: inRange scales its range
  // with the size, which starts at 0, so the first tests of a seed would
  // pick only the first entries of each menu (one step, then a few).
  return rc::gen::resize(rc::kNominalSize, rc::gen::inRange<uint32_t>(0, n));
}

void DifferentialLifecycle(const DifferenceRegistry& registry) {
  const Script script = *rc::gen::exec([] {
    return GenerateLifecycleScript(
        [](uint32_t n) { return *LifecycleChoice(n); });
  });
  const DifferentialRun run =
      RunDifferential(script, AvailableTransportKinds(), registry);
  for (const auto& [kind, status] : run.skipped) {
    RC_FAIL(absl::StrCat(TransportName(kind), ": ", status.ToString()));
  }
  if (!run.diverged()) return;
  // Run once more where it diverged: a divergence that does not come back
  // is no verdict (another process took a port the kernel had given the
  // script, or a race): kept for a person to look at, said, not failed.
  const std::optional<Finding> finding =
      ReplayedFindingOf(script, run, registry);
  if (finding && absl::StartsWith(finding->signature, "did not replay")) {
    if (const char* dir = std::getenv("SOCKPARITY_FINDINGS_DIR")) {
      RC_ASSERT(RecordFinding(dir, *finding).ok());
    }
    std::cerr << "a divergence that did not come back when run again, not "
                 "judged: "
              << finding->signature << "\n";
    return;
  }
  // Shrinking only keeps failing scripts, so the last one written here is
  // the smallest found; it stops at the divergence, ready for the corpus.
  const Script prefix = *run.ShortestDivergingPrefix(script);
  if (const char* dir = std::getenv("SOCKPARITY_FAILURE_DIR")) {
    std::ofstream(absl::StrCat(dir, "/lifecycle-failure.script"))
        << "# " << run.first_divergence()->comparison.Describe() << "\n"
        << FormatScript(prefix);
  }
  // Every failing script (shrinking tries many) is a real divergence: the
  // findings directory keeps each signature once, at its shortest.
  if (const char* dir = std::getenv("SOCKPARITY_FINDINGS_DIR")) {
    const absl::Status kept = RecordFinding(dir, *finding);
    RC_ASSERT(kept.ok());
  }
  RC_FAIL(FormatDivergence(script, run));
}

}  // namespace sockparity::properties
