// The example's own connection code, written once and run on every
// transport sockparity knows (the kind is in each test's name).
#include <sys/socket.h>

#include <thread>

#include "frame_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/net/io.h"
#include "sockparity/testing/gtest_transports.h"
#include "sockparity/testing/matchers.h"

namespace {

// Matchers that print the status (and errno) when a call fails.
using sockparity::testing::HasCode;
using sockparity::testing::IsOk;

class FramedConnectionTest : public sockparity::testing::TransportTest {};

// Frames written in one go arrive whole and in order, whatever the kind
// does to the byte stream.
TEST_P(FramedConnectionTest, FramesArriveInOrder) {
  SP_ASSERT_OK_AND_ASSIGN(auto pair, MakePair());
  const echo::FrameCodec codec;
  std::vector<echo::Bytes> sent;
  echo::Bytes stream;
  for (size_t size : {1, 100, 70000, 3}) {
    sent.push_back(echo::Bytes(size, static_cast<uint8_t>(size)));
    ASSERT_THAT(codec.Encode(sent.back(), stream), IsOk());
  }
  std::thread writer([&] {
    EXPECT_THAT(sockparity::SendAll(pair.a, stream), IsOk());
    EXPECT_THAT(sockparity::Shutdown(pair.a, SHUT_WR), IsOk());
  });
  auto got = sockparity::RecvUntilEof(pair.b);
  writer.join();  // before any ASSERT can return past it
  ASSERT_THAT(got, IsOk());
  echo::FrameDecoder decoder;
  std::vector<echo::Bytes> frames;
  ASSERT_THAT(decoder.Feed(*got, frames), IsOk());
  ASSERT_THAT(decoder.Finish(), IsOk());
  EXPECT_EQ(frames, sent);
}

// A stream cut inside a frame is an error at its end, not a lost frame.
TEST_P(FramedConnectionTest, CutFrameIsReported) {
  SP_ASSERT_OK_AND_ASSIGN(auto pair, MakePair());
  echo::Bytes stream;
  ASSERT_THAT(echo::FrameCodec().Encode(echo::Bytes(10, 'x'), stream), IsOk());
  stream.resize(7);
  ASSERT_THAT(sockparity::SendAll(pair.a, stream), IsOk());
  ASSERT_THAT(sockparity::Shutdown(pair.a, SHUT_WR), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(echo::Bytes got, sockparity::RecvUntilEof(pair.b));
  echo::FrameDecoder decoder;
  std::vector<echo::Bytes> frames;
  ASSERT_THAT(decoder.Feed(got, frames), IsOk());
  EXPECT_THAT(decoder.Finish(), HasCode(absl::StatusCode::kDataLoss));
  EXPECT_TRUE(frames.empty());
}

SOCKPARITY_INSTANTIATE_ON_ALL_TRANSPORTS(FramedConnectionTest);

}  // namespace
