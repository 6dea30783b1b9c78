#include "check/peer_link.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "check/server_port.h"
#include "sockparity/net/listener.h"

namespace sockparity::internal {

TransportKind SocketKindOf(ContractTransport transport) {
  switch (transport) {
    case ContractTransport::kFd:
      return TransportKind::kSocketpair;
    case ContractTransport::kUnix:
      return TransportKind::kUnixPath;
    case ContractTransport::kUnixAbstract:
      return TransportKind::kUnixAbstract;
    case ContractTransport::kTcp4:
      return TransportKind::kTcp4;
    case ContractTransport::kTcp6:
      return TransportKind::kTcp6;
  }
  return TransportKind::kSocketpair;
}

ContractTransport ContractTransportOf(TransportKind kind) {
  for (ContractTransport transport : kAllContractTransports) {
    if (SocketKindOf(transport) == kind) return transport;
  }
  return ContractTransport::kFd;  // every kind has one
}

absl::Status PeerLink::Start() {
  const absl::Time start = absl::Now();
  absl::Status started = [&]() -> absl::Status {
    if (absl::Status ready = PreparePerturbation(); !ready.ok()) return ready;
    if (single_connection()) {
      // One server over one socketpair, to learn whether it serves fd:N.
      absl::StatusOr<Socket> probe = Connect();
      EndCase();
      return probe.status();
    }
    absl::StatusOr<std::string> address = FreshAddress();
    if (!address.ok()) return address.status();
    std::optional<absl::StatusOr<SutProcess>> sut;
    sut.emplace(SutProcess::Start(options_.command, *address, kSutReadyWithin,
                                  nullptr, -1, Environment()));
    // A port outside the ephemeral range can still be taken by another
    // program between the choice and the server's bind: start again on a
    // fresh one, but only when that is shown (the port is now in use by a
    // process outside the server's tree, which has ended), and say so.
    for (int retry = 0;
         retry < 3 && absl::IsFailedPrecondition(sut->status()) &&
         socket_kind() != TransportKind::kUnixPath &&
         socket_kind() != TransportKind::kUnixAbstract;
         ++retry) {
      uint32_t port = 0;
      if (!absl::SimpleAtoi(address->substr(address->rfind(':') + 1), &port) ||
          !PortInUse(socket_kind(), static_cast<uint16_t>(port))) {
        break;
      }
      absl::StatusOr<std::string> fresh = FreshAddress();
      if (!fresh.ok()) break;
      notes_.push_back(absl::StrCat(ContractTransportName(transport_),
                                    ": the server ended before it "
                                    "was ready on ",
                                    *address,
                                    ", and another process held that port "
                                    "by then; started again on ",
                                    *fresh));
      address = fresh;
      sut.emplace(SutProcess::Start(options_.command, *address, kSutReadyWithin,
                                    nullptr, -1, Environment()));
    }
    if (!sut->ok()) return sut->status();
    server_.emplace(std::move(**sut));
    absl::StatusOr<Endpoint> endpoint = Endpoint::Parse(*address);
    if (!endpoint.ok()) return endpoint.status();
    endpoint_ = *endpoint;
    return absl::OkStatus();
  }();
  ready_after_ = absl::Now() - start;
  return started;
}

absl::StatusOr<Socket> PeerLink::Connect() {
  if (!single_connection()) {
    return sockparity::Connect(*endpoint_, options_.timeout);
  }
  absl::StatusOr<SocketPair> pair =
      MakeConnectedPair(TransportKind::kSocketpair);
  if (!pair.ok()) return pair.status();
  absl::StatusOr<SutProcess> sut =
      SutProcess::Start(options_.command, "fd:3", kSutReadyWithin,
                        &pair->b.owned_fd(), 3, Environment());
  if (!sut.ok()) return sut.status();
  fd_servers_.push_back(std::make_unique<SutProcess>(std::move(*sut)));
  return std::move(pair->a);
}

std::optional<pid_t> PeerLink::ServerPid() const {
  if (server_) return server_->pid();
  if (!fd_servers_.empty()) return fd_servers_.back()->pid();
  return std::nullopt;
}

std::optional<SutExit> PeerLink::Stop() {
  EndCase();
  if (!server_) return std::nullopt;
  return server_->Stop(absl::Seconds(2));
}

std::vector<std::string> PeerLink::Environment() const {
  if (options_.perturb.empty()) return {};
  std::string preload = options_.perturb_library;
  if (const char* existing = ::getenv("LD_PRELOAD");
      existing != nullptr && *existing != '\0') {
    absl::StrAppend(&preload, ":", existing);
  }
  return {
      absl::StrCat("LD_PRELOAD=", preload),
      absl::StrCat("SOCKPARITY_PERTURB=", absl::StrJoin(options_.perturb, ",")),
      absl::StrCat("SOCKPARITY_PERTURB_SEED=", perturb_seed_),
      absl::StrCat("SOCKPARITY_PERTURB_ANNOUNCE=", AnnouncePath())};
}

absl::Status PeerLink::PerturbationInEffect() const {
  if (options_.perturb.empty()) return absl::OkStatus();
  std::ifstream in(AnnouncePath());
  std::string line;
  bool loaded = false;
  while (std::getline(in, line)) {
    if (line.rfind("active ", 0) == 0) return absl::OkStatus();
    loaded |= line.rfind("loaded ", 0) == 0;
  }
  return absl::FailedPreconditionError(
      loaded ? "the library was loaded, but no socket call went through "
               "it (the server makes its system calls without libc, or no "
               "connection ever reached it)"
             : "the server never loaded the library (a static binary, or "
               "a runtime that ignores LD_PRELOAD)");
}

absl::Status PeerLink::PreparePerturbation() {
  if (options_.perturb.empty() || perturb_dir_) return absl::OkStatus();
  if (options_.perturb_library.empty()) {
    return absl::InvalidArgumentError(
        "perturbation modes were given without the library");
  }
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) return dir.status();
  perturb_dir_.emplace(std::move(*dir));
  return absl::OkStatus();
}

std::string PeerLink::AnnouncePath() const {
  return perturb_dir_ ? perturb_dir_->path() + "/announce.log" : "";
}

absl::StatusOr<std::string> PeerLink::FreshAddress() {
  switch (transport_) {
    case ContractTransport::kUnix: {
      absl::StatusOr<TempDir> dir = TempDir::Create();
      if (!dir.ok()) return dir.status();
      dir_.emplace(std::move(*dir));
      return absl::StrCat("unix:", dir_->path(), "/sut.sock");
    }
    case ContractTransport::kUnixAbstract: {
      static std::atomic<int> counter{0};
      return absl::StrCat("unix:@sockparity-check-", ::getpid(), "-", counter++,
                          "-", absl::ToUnixMicros(absl::Now()));
    }
    default: {
      absl::StatusOr<uint16_t> port = PickServerPort(socket_kind());
      if (!port.ok()) return port.status();
      return socket_kind() == TransportKind::kTcp6
                 ? absl::StrCat("tcp:[::1]:", *port)
                 : absl::StrCat("tcp:127.0.0.1:", *port);
    }
  }
}

}  // namespace sockparity::internal
