// The properties reject what they exist to reject: a codec broken on
// purpose and a registry with a wrong entry.
#include <malloc.h>
#include <rapidcheck.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "property_bodies.h"
#include "sockparity/codec/codecs.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity::properties {
namespace {

// Writes the length one short for frames of 200 bytes or more: an off-by-one
// that only longer messages reveal.
class OffByOneCodec final : public Codec {
 public:
  OffByOneCodec() : inner_(MakeCodec("u32be")) {}
  std::string Name() const override { return "broken u32be"; }
  uint64_t max_frame() const override { return inner_->max_frame(); }
  absl::Status Encode(absl::Span<const uint8_t> payload,
                      Bytes& out) const override {
    if (absl::Status s = inner_->Encode(payload, out); !s.ok()) return s;
    if (payload.size() >= 200) {
      out[out.size() - payload.size() - 1] -= 1;
    }
    return absl::OkStatus();
  }
  std::unique_ptr<FrameDecoder> NewDecoder() const override {
    return inner_->NewDecoder();
  }

 private:
  std::unique_ptr<Codec> inner_;
};

// Forgets to keep its error: after a failed Feed, it decodes again as if
// nothing happened, so the result depends on where the input was split.
class ForgetfulDecoder final : public FrameDecoder {
 public:
  explicit ForgetfulDecoder(const Codec& codec)
      : codec_(codec), inner_(codec.NewDecoder()) {}
  absl::Status Feed(absl::Span<const uint8_t> input,
                    std::vector<Bytes>& frames) override {
    absl::Status status = inner_->Feed(input, frames);
    if (!status.ok()) inner_ = codec_.NewDecoder();
    return absl::OkStatus();
  }
  absl::Status Finish() override { return inner_->Finish(); }
  uint64_t offset() const override { return inner_->offset(); }

 private:
  const Codec& codec_;
  std::unique_ptr<FrameDecoder> inner_;
};

class ForgetfulCodec final : public Codec {
 public:
  ForgetfulCodec() : inner_(MakeCodec("varint")) {}
  std::string Name() const override { return "forgetful varint"; }
  uint64_t max_frame() const override { return inner_->max_frame(); }
  absl::Status Encode(absl::Span<const uint8_t> payload,
                      Bytes& out) const override {
    return inner_->Encode(payload, out);
  }
  std::unique_ptr<FrameDecoder> NewDecoder() const override {
    return std::make_unique<ForgetfulDecoder>(*inner_);
  }

 private:
  std::unique_ptr<Codec> inner_;
};

// Reserves room for the length its header claims (up to 256 MiB) before
// the bytes arrive: what a 4-byte claim of 0xFFFFFFFF turns into a 4 GiB
// allocation in real code.
class GreedyDecoder final : public FrameDecoder {
 public:
  explicit GreedyDecoder(const Codec& codec) : inner_(codec.NewDecoder()) {}
  absl::Status Feed(absl::Span<const uint8_t> input,
                    std::vector<Bytes>& frames) override {
    for (uint8_t byte : input) {
      if (header_.size() < 4) header_.push_back(byte);
    }
    if (header_.size() == 4 && reserved_.capacity() == 0) {
      const uint32_t claim = uint32_t{header_[0]} << 24 |
                             uint32_t{header_[1]} << 16 |
                             uint32_t{header_[2]} << 8 | header_[3];
      reserved_.reserve(std::min<uint32_t>(claim, 256u << 20) + 1);
    }
    return inner_->Feed(input, frames);
  }
  absl::Status Finish() override { return inner_->Finish(); }
  uint64_t offset() const override { return inner_->offset(); }

 private:
  std::unique_ptr<FrameDecoder> inner_;
  Bytes header_;
  Bytes reserved_;
};

class GreedyCodec final : public Codec {
 public:
  GreedyCodec() : inner_(MakeCodec("u32be")) {}
  std::string Name() const override { return "greedy u32be"; }
  uint64_t max_frame() const override { return inner_->max_frame(); }
  absl::Status Encode(absl::Span<const uint8_t> payload,
                      Bytes& out) const override {
    return inner_->Encode(payload, out);
  }
  std::unique_ptr<FrameDecoder> NewDecoder() const override {
    return std::make_unique<GreedyDecoder>(*inner_);
  }

 private:
  std::unique_ptr<Codec> inner_;
};

// Whether RapidCheck finds a counterexample, without shrinking it: these
// tests only need the property to fail. Shrinking a large input took
// minutes under ASan, and this RapidCheck has no max_shrinks (noshrink is
// its only bound).
template <typename Property>
bool FindsCounterexample(const std::string& what, Property&& property) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.disableShrinking = true;
  rc::detail::TestMetadata metadata;
  metadata.id = what;
  metadata.description = what;
  rc::detail::TestResult result = rc::detail::checkTestable(
      std::forward<Property>(property), metadata, params);
  rc::detail::FailureResult failure;
  if (!result.match(failure)) return false;
  std::cerr << what << ": counterexample after " << failure.numSuccess
            << " successes (seed " << params.seed
            << "): " << failure.description << "\n";
  return true;
}

TEST(PropertiesCanFail, GreedyDecoderFailsTheBadInputProperty) {
  if (mallinfo2().uordblks == 0) {
    GTEST_SKIP() << "this allocator does not report heap use (sanitizer)";
  }
  GreedyCodec broken;
  EXPECT_TRUE(FindsCounterexample("greedy decoder, bad input",
                                  [&] { BadInputRefusedCheaply(broken); }));
}

TEST(PropertiesCanFail, BrokenCodecFailsTheWireProperty) {
  OffByOneCodec broken;
  EXPECT_TRUE(FindsCounterexample("broken codec over the wire", [&] {
    FramingOverTheWire(broken, TransportKind::kSocketpair);
  }));
}

TEST(PropertiesCanFail, ForgetfulDecoderFailsSplitInvariance) {
  ForgetfulCodec broken;
  EXPECT_TRUE(FindsCounterexample("forgetful decoder split invariance",
                                  [&] { DecoderSplitInvariance(broken); }));
}

// The registry with its TCP_NODELAY entry swapped: it claims UNIX sockets
// take the option and TCP refuses it.
// A property's first tests run at size 0: a choice that shrank with the
// size would pick the first entry of each menu there, and never reach the
// scripts that start with the later ones.
TEST(PropertiesCanFail, LifecycleChoicesSpanTheirMenuAtEverySize) {
  rc::Random random(2026);
  for (const int size : {0, 1, 50, rc::kNominalSize}) {
    std::set<uint32_t> seen;
    for (int i = 0; i < 400; ++i) {
      seen.insert(LifecycleChoice(12)(random.split(), size).value());
    }
    EXPECT_EQ(seen.size(), 12u) << "at size " << size;
    EXPECT_EQ(*seen.rbegin(), 11u) << "at size " << size;
  }
  EXPECT_EQ(LifecycleChoice(1)(random.split(), 0).value(), 0u);
}

TEST(PropertiesCanFail, WrongRegistryEntryFailsTheDifferentialProperty) {
  std::vector<Difference> entries(
      DifferenceRegistry::Default().entries().begin(),
      DifferenceRegistry::Default().entries().end());
  bool swapped = false;
  for (Difference& entry : entries) {
    if (entry.id != "tcp_nodelay_only_on_tcp") continue;
    std::swap(entry.behaviour[0].outcomes, entry.behaviour[1].outcomes);
    swapped = true;
  }
  ASSERT_TRUE(swapped);
  DifferenceRegistry wrong(std::move(entries));
  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok()) << dir.status();
  ::setenv("SOCKPARITY_FAILURE_DIR", dir->path().c_str(), 1);
  const bool passed = rc::check("differential lifecycle with a wrong entry",
                                [&] { DifferentialLifecycle(wrong); });
  ::unsetenv("SOCKPARITY_FAILURE_DIR");
  EXPECT_FALSE(passed);

  // The script it printed reproduces with the command, once the command
  // is given the same wrong view (it lacks the real entry).
  const std::string script = dir->path() + "/lifecycle-failure.script";
  ASSERT_TRUE(std::ifstream(script).good()) << "no failing script was written";
  const std::string command =
      absl::StrCat(SOCKPARITY_COMMAND, " replay ", script,
                   " --without tcp_nodelay_only_on_tcp 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> buffer;
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 1) << output;
  EXPECT_THAT(output, ::testing::HasSubstr("nodelay"));
  EXPECT_THAT(output, ::testing::HasSubstr("verdict: DIVERGED"));
  // With the real registry the same script is explained.
  pipe = ::popen(
      absl::StrCat(SOCKPARITY_COMMAND, " replay ", script, " 2>&1").c_str(),
      "r");
  ASSERT_NE(pipe, nullptr);
  output.clear();
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    output.append(buffer.data(), n);
  }
  EXPECT_EQ(WEXITSTATUS(::pclose(pipe)), 0) << output;
}

}  // namespace
}  // namespace sockparity::properties
