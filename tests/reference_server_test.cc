// The reference server meets the peer contract on every address form, as
// started and stopped by SutProcess.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/io.h"
#include "sockparity/net/listener.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/check/sut_process.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;

enum class Form { kUnixPath, kUnixAbstract, kTcp4, kTcp6, kFd };

std::string FormName(Form form) {
  switch (form) {
    case Form::kUnixPath:
      return "unix";
    case Form::kUnixAbstract:
      return "unix_abstract";
    case Form::kTcp4:
      return "tcp4";
    case Form::kTcp6:
      return "tcp6";
    case Form::kFd:
      return "fd";
  }
  return "?";
}

Bytes Frame(absl::string_view payload) { return ContractFrame(payload); }

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) {
    const size_t old = out.size();
    out.resize(old + part.size());
    std::copy(part.begin(), part.end(), out.begin() + old);
  }
  return out;
}

// Reads one reply frame.
absl::StatusOr<Bytes> ReadFrame(const Socket& socket) {
  absl::StatusOr<Bytes> header = RecvExactly(socket, 4);
  if (!header.ok()) return header.status();
  const uint32_t n = DecodeLength(header->data());
  return RecvExactly(socket, n);
}

// A server on one address form, and how to reach it.
struct Running {
  std::optional<TempDir> dir;
  std::optional<SutProcess> sut;
  std::optional<Endpoint> endpoint;  // not for fd:N
  std::optional<Socket> fd_client;   // the suite's end of fd:N
  std::string address;
};

// A loopback port free now: the kernel picks it, then it is released for
// the server to bind.
absl::StatusOr<uint16_t> FreePort(TransportKind kind) {
  absl::StatusOr<Listener> probe = Listener::Open(kind);
  if (!probe.ok()) return probe.status();
  const std::string text = probe->endpoint().ToString();
  return static_cast<uint16_t>(std::stoi(text.substr(text.rfind(':') + 1)));
}

class ReferenceServerTest : public ::testing::TestWithParam<Form> {
 protected:
  void SetUp() override {
    const Form form = GetParam();
    if (form == Form::kTcp6 &&
        !TransportAvailability(TransportKind::kTcp6).ok()) {
      GTEST_SKIP() << TransportAvailability(TransportKind::kTcp6).message();
    }
    std::optional<Fd> inherited;
    switch (form) {
      case Form::kUnixPath: {
        absl::StatusOr<TempDir> dir = TempDir::Create();
        ASSERT_TRUE(dir.ok()) << dir.status();
        server_.address = absl::StrCat("unix:", dir->path(), "/server.sock");
        server_.dir = std::move(*dir);
        break;
      }
      case Form::kUnixAbstract:
        server_.address =
            absl::StrCat("unix:@sockparity-reference-", ::getpid(), "-",
                         absl::ToUnixNanos(absl::Now()));
        break;
      case Form::kTcp4:
      case Form::kTcp6: {
        const TransportKind kind =
            form == Form::kTcp4 ? TransportKind::kTcp4 : TransportKind::kTcp6;
        absl::StatusOr<uint16_t> port = FreePort(kind);
        ASSERT_TRUE(port.ok()) << port.status();
        server_.address = form == Form::kTcp4
                              ? absl::StrCat("tcp:127.0.0.1:", *port)
                              : absl::StrCat("tcp:[::1]:", *port);
        break;
      }
      case Form::kFd: {
        absl::StatusOr<SocketPair> pair =
            MakeConnectedPair(TransportKind::kSocketpair);
        ASSERT_TRUE(pair.ok()) << pair.status();
        server_.fd_client = std::move(pair->a);
        inherited = std::move(pair->b.owned_fd());
        server_.address = "fd:3";
        break;
      }
    }
    absl::StatusOr<SutProcess> sut = SutProcess::Start(
        {SOCKPARITY_REFERENCE_SERVER}, server_.address, absl::Seconds(10),
        inherited ? &*inherited : nullptr, 3);
    ASSERT_TRUE(sut.ok()) << sut.status();
    server_.sut.emplace(std::move(*sut));
    if (form != Form::kFd) {
      absl::StatusOr<Endpoint> endpoint = Endpoint::Parse(server_.address);
      ASSERT_TRUE(endpoint.ok()) << endpoint.status();
      server_.endpoint = *endpoint;
    }
  }

  void TearDown() override {
    if (server_.sut) {
      SutExit exit = server_.sut->Stop(absl::Seconds(2));
      EXPECT_TRUE(exit.exited && exit.code == 0) << exit.Describe() << "\n"
                                                 << server_.sut->Output();
      EXPECT_LT(exit.took, absl::Seconds(2));
      if (server_.endpoint && !server_.endpoint->path().empty()) {
        EXPECT_FALSE(
            std::filesystem::exists(std::string(server_.endpoint->path())))
            << "the socket file is left behind";
      }
    }
  }

  Socket Client() {
    if (server_.fd_client) return std::move(*server_.fd_client);
    absl::StatusOr<Socket> socket =
        Connect(*server_.endpoint, absl::Seconds(5));
    EXPECT_TRUE(socket.ok()) << socket.status();
    return socket.ok() ? std::move(*socket) : Socket();
  }

  Running server_;
};

TEST_P(ReferenceServerTest, EchoBulkAndCount) {
  Socket client = Client();
  ASSERT_TRUE(client.valid());
  const Bytes requests = Concat(
      {Frame("Ehello"), Frame(std::string("B\x00\x00\x03\xe8", 5)),  // B 1000
       Frame("N")});
  ASSERT_THAT(SendAll(client, requests), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(Bytes echo, ReadFrame(client));
  EXPECT_EQ(echo, ToBytes("Ehello"));
  SP_ASSERT_OK_AND_ASSIGN(Bytes reply, ReadFrame(client));
  ASSERT_EQ(reply.size(), 1001u);
  EXPECT_EQ(reply[0], 'B');
  for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(reply[i + 1], i % 251) << i;
  SP_ASSERT_OK_AND_ASSIGN(Bytes n, ReadFrame(client));
  EXPECT_EQ(n, ToBytes("N1"));
}

TEST_P(ReferenceServerTest, HalfCloseRepliesThenEndOfStream) {
  Socket client = Client();
  const Bytes requests = Concat({Frame("Eone"), Frame("S")});
  ASSERT_THAT(SendAll(client, requests), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(Bytes echo, ReadFrame(client));
  EXPECT_EQ(echo, ToBytes("Eone"));
  SP_ASSERT_OK_AND_ASSIGN(Bytes rest, RecvUntilEof(client));
  EXPECT_TRUE(rest.empty());
}

TEST_P(ReferenceServerTest, ZeroLengthFrameClosesWithoutReply) {
  Socket client = Client();
  ASSERT_THAT(SendAll(client, Bytes{0, 0, 0, 0}), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(Bytes rest, RecvUntilEof(client));
  EXPECT_TRUE(rest.empty());
}

INSTANTIATE_TEST_SUITE_P(AddressForms, ReferenceServerTest,
                         ::testing::Values(Form::kUnixPath, Form::kUnixAbstract,
                                           Form::kTcp4, Form::kTcp6, Form::kFd),
                         [](const ::testing::TestParamInfo<Form>& info) {
                           return FormName(info.param);
                         });

TEST(ReferenceServerLifecycleTest, StartsOverAStaleSocketFile) {
  SP_ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  const std::string path = dir.path() + "/stale.sock";
  {
    // A socket file nobody listens on any more.
    SP_ASSERT_OK_AND_ASSIGN(Endpoint endpoint, Endpoint::Parse("unix:" + path));
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(fd.get(), endpoint.addr(), endpoint.length()), 0);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  absl::StatusOr<SutProcess> sut =
      SutProcess::Start({SOCKPARITY_REFERENCE_SERVER}, "unix:" + path);
  ASSERT_TRUE(sut.ok()) << sut.status();
  SutExit exit = sut->Stop();
  EXPECT_TRUE(exit.exited && exit.code == 0) << exit.Describe();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SutProcessTest, ReportsWhatWentWrong) {
  absl::StatusOr<SutProcess> missing =
      SutProcess::Start({"/nonexistent/sut"}, "unix:@x", absl::Seconds(5));
  EXPECT_THAT(missing.status().message(),
              HasSubstr("cannot run /nonexistent/sut"));
  absl::StatusOr<SutProcess> unsupported = SutProcess::Start(
      {"/bin/sh", "-c", "exit 64", "sh"}, "fd:3", absl::Seconds(5));
  EXPECT_THAT(unsupported.status(), HasCode(absl::StatusCode::kUnimplemented));
  absl::StatusOr<SutProcess> silent =
      SutProcess::Start({"/bin/sh", "-c", "echo starting; exec sleep 30", "sh"},
                        "unix:@y", absl::Milliseconds(300));
  EXPECT_THAT(silent.status(), HasCode(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(silent.status().message(), HasSubstr("starting"));
  absl::StatusOr<SutProcess> stubborn = SutProcess::Start(
      {"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done",
       "sh"},
      "unix:@z");
  ASSERT_TRUE(stubborn.ok()) << stubborn.status();
  SutExit exit = stubborn->Stop(absl::Milliseconds(200));
  EXPECT_TRUE(exit.killed) << exit.Describe();
}

}  // namespace
}  // namespace sockparity::testing
