// The TCP port a server is given: outside the ephemeral range, and a start
// that meets a port taken meanwhile is tried again on a fresh one, with a
// note in the report.
#include "check/server_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/net/transport.h"

namespace sockparity::internal {
namespace {

TEST(ServerPort, IsOutsideTheEphemeralRangeAndFree) {
  const auto [first, last] = EphemeralPortRange();
  for (TransportKind kind : {TransportKind::kTcp4, TransportKind::kTcp6}) {
    if (!TransportAvailability(kind).ok()) continue;
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<uint16_t> port = PickServerPort(kind);
      ASSERT_TRUE(port.ok()) << port.status();
      EXPECT_TRUE(*port < first || *port > last)
          << *port << " is in the ephemeral range " << first << "-" << last;
      EXPECT_GE(*port, 1024);
      EXPECT_FALSE(PortInUse(kind, *port));
    }
  }
}

TEST(ServerPort, InUseSeesAListener) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length),
      0);
  EXPECT_TRUE(PortInUse(TransportKind::kTcp4, ntohs(address.sin_port)));
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

// Another program takes the port between the suite's choice and the
// server's bind: the server fails to start, the suite sees the port taken
// and starts it again on a fresh one, and says so.
TEST(ServerPort, ATakenPortIsTriedAgainWithANote) {
  absl::StatusOr<TempDir> state = TempDir::Create();
  ASSERT_TRUE(state.ok());
  CheckOptions options;
  options.command = {SOCKPARITY_PORT_TAKEN_SERVER, state->path(),
                     SOCKPARITY_REFERENCE_SERVER};
  options.transports = {ContractTransport::kTcp4};
  options.include = {"1.1"};
  Fd taker;
  std::thread take([&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    std::string port;
    while ((port = ReadWhole(state->path() + "/port")).empty() &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));  // polling for the file
    }
    taker = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(std::stoi("0" + port)));
    (void)!::bind(taker.get(), reinterpret_cast<sockaddr*>(&address),
                  sizeof(address));
    (void)!::listen(taker.get(), 1);
    std::ofstream(state->path() + "/taken") << "yes\n";
  });
  absl::StatusOr<CheckReport> report = RunCheck(options);
  take.join();
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->cells.size(), 1u);
  EXPECT_EQ(report->cells[0].result.verdict, Verdict::kOk)
      << report->cells[0].result.reason;
  ASSERT_EQ(report->notes.size(), 1u) << absl::StrJoin(report->notes, "\n");
  EXPECT_NE(report->notes[0].find(absl::StrCat(
                "another process held that port by then; started again on "
                "tcp:127.0.0.1:")),
            std::string::npos)
      << report->notes[0];
}

}  // namespace
}  // namespace sockparity::internal
