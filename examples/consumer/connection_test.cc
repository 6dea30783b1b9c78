// The example's own connection code, written once and run on every
// transport sockparity knows (the kind is in each test's name).
#include <sys/socket.h>

#include <thread>

#include "frame_codec.h"
#include "gtest/gtest.h"
#include "sockparity/testing/gtest_transports.h"
#include "sockparity/net/io.h"

namespace {

class FramedConnectionTest : public sockparity::testing::TransportTest {};

// Frames written in one go arrive whole and in order, whatever the kind
// does to the byte stream.
TEST_P(FramedConnectionTest, FramesArriveInOrder) {
  auto pair = MakePair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  const echo::FrameCodec codec;
  std::vector<echo::Bytes> sent;
  echo::Bytes stream;
  for (size_t size : {1, 100, 70000, 3}) {
    sent.push_back(echo::Bytes(size, static_cast<uint8_t>(size)));
    ASSERT_TRUE(codec.Encode(sent.back(), stream).ok());
  }
  std::thread writer([&] {
    EXPECT_TRUE(sockparity::SendAll(pair->a, stream).ok());
    EXPECT_TRUE(sockparity::Shutdown(pair->a, SHUT_WR).ok());
  });
  auto got = sockparity::RecvUntilEof(pair->b);
  writer.join();
  ASSERT_TRUE(got.ok()) << got.status();
  echo::FrameDecoder decoder;
  std::vector<echo::Bytes> frames;
  ASSERT_TRUE(decoder.Feed(*got, frames).ok());
  ASSERT_TRUE(decoder.Finish().ok());
  EXPECT_EQ(frames, sent);
}

// A stream cut inside a frame is an error at its end, not a lost frame.
TEST_P(FramedConnectionTest, CutFrameIsReported) {
  auto pair = MakePair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  echo::Bytes stream;
  ASSERT_TRUE(echo::FrameCodec().Encode(echo::Bytes(10, 'x'), stream).ok());
  stream.resize(7);
  ASSERT_TRUE(sockparity::SendAll(pair->a, stream).ok());
  ASSERT_TRUE(sockparity::Shutdown(pair->a, SHUT_WR).ok());
  auto got = sockparity::RecvUntilEof(pair->b);
  ASSERT_TRUE(got.ok()) << got.status();
  echo::FrameDecoder decoder;
  std::vector<echo::Bytes> frames;
  ASSERT_TRUE(decoder.Feed(*got, frames).ok());
  EXPECT_EQ(decoder.Finish().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(frames.empty());
}

SOCKPARITY_INSTANTIATE_ON_ALL_TRANSPORTS(FramedConnectionTest);

}  // namespace
