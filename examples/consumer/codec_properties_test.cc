// sockparity's framing properties, applied to the example's codec.
// RapidCheck prints the seed; RC_PARAMS="seed=N" replays a run.
// clang-format off
#include "gtest/gtest.h"
#include <rapidcheck/gtest.h>
// clang-format on

#include "frame_codec.h"
#include "sockparity/testing/framing_properties.h"

namespace {

sockparity::testing::FramingOptions Options() {
  sockparity::testing::FramingOptions options;
  options.min_payload = 1;  // the format has no empty frames
  options.oversize_header = {0x01, 0x00, 0x00, 0x01};  // 16 MiB + 1
  return options;
}

RC_GTEST_PROP(EchoCodec, SplitAnywhereSameFrames, ()) {
  sockparity::testing::CheckSplitInvariance(echo::FrameCodec(), Options());
}

RC_GTEST_PROP(EchoCodec, RoundTripOverEveryKind, ()) {
  const auto kind = *rc::gen::elementOf(sockparity::kAllTransportKinds);
  RC_PRE(sockparity::TransportAvailability(kind).ok());
  sockparity::testing::CheckRoundTripOverTransport(echo::FrameCodec(), kind,
                                                   Options());
}

RC_GTEST_PROP(EchoCodec, BadInputRefusedCheaply, ()) {
  sockparity::testing::CheckRefusesBadInputCheaply(echo::FrameCodec(),
                                                   Options());
}

}  // namespace
