// sockparity's RapidCheck properties, in ctest. RapidCheck prints the seed
// of every run; RC_PARAMS="seed=N" reproduces one and
// RC_PARAMS="max_success=2000" raises the effort.

// rapidcheck/gtest.h needs GoogleTest declared first.
// clang-format off
#include "gtest/gtest.h"
#include <rapidcheck/gtest.h>
// clang-format on

#include "property_bodies.h"
#include "sockparity/net/transport.h"

namespace sockparity::properties {
namespace {

RC_GTEST_PROP(Framing, OverTheWireAnyCodecAnyKindAnySplit, ()) {
  const auto name = *rc::gen::elementOf(CodecNames());
  const auto kind = *rc::gen::elementOf(std::vector<TransportKind>(
      kAllTransportKinds.begin(), kAllTransportKinds.end()));
  RC_PRE(TransportAvailability(kind).ok());
  RC_TAG(name, TransportName(kind));
  FramingOverTheWire(*MakeCodec(name), kind);
}

RC_GTEST_PROP(Framing, DecoderSplitInvariance, ()) {
  const auto name = *rc::gen::elementOf(CodecNames());
  DecoderSplitInvariance(*MakeCodec(name));
}

RC_GTEST_PROP(Framing, BadInputRefusedCheaply, ()) {
  const auto name = *rc::gen::elementOf(CodecNames());
  BadInputRefusedCheaply(*MakeCodec(name));
}

RC_GTEST_PROP(Lifecycle, DifferentialAcrossKinds, ()) {
  DifferentialLifecycle(DifferenceRegistry::InEffect());
}

}  // namespace
}  // namespace sockparity::properties
