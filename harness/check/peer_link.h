// Internal: how the peer checker reaches the server on one transport of
// the contract.
#ifndef SOCKPARITY_CHECK_PEER_LINK_H_
#define SOCKPARITY_CHECK_PEER_LINK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/check/sut_process.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/net/transport.h"

namespace sockparity::internal {

// The socket kind a contract transport runs on: fd:N is one end of a
// socketpair; the registry of differences is kept by socket kind.
TransportKind SocketKindOf(ContractTransport transport);
// The inverse: the contract transport that runs on a socket kind.
ContractTransport ContractTransportOf(TransportKind kind);

// The server on one transport. With fd:N every connection is a fresh
// server over a socketpair.
class PeerLink {
 public:
  PeerLink(const CheckOptions& options, ContractTransport transport,
           uint64_t perturb_seed)
      : options_(options), transport_(transport), perturb_seed_(perturb_seed) {}

  // Starts the server for an addressed transport. UNIMPLEMENTED: exit 64.
  absl::Status Start();

  ContractTransport transport() const { return transport_; }
  TransportKind socket_kind() const { return SocketKindOf(transport_); }
  bool single_connection() const {
    return transport_ == ContractTransport::kFd;
  }
  // From the call to Start until the server said 'ready'.
  absl::Duration ready_after() const { return ready_after_; }
  SutProcess* server() { return server_ ? &*server_ : nullptr; }
  // The server's process: the addressed one, or for fd:N the one started
  // for the latest connection.
  std::optional<pid_t> ServerPid() const;
  // Where the server listens; none for fd:N.
  const std::optional<Endpoint>& endpoint() const { return endpoint_; }

  absl::StatusOr<Socket> Connect();

  // What a reader of the report should know about how the server was
  // started (a start again on a fresh port).
  const std::vector<std::string>& notes() const { return notes_; }

  // Ends the per-connection servers of fd:N.
  void EndCase() { fd_servers_.clear(); }

  // SIGTERM, and how the server ended; none for fd:N.
  std::optional<SutExit> Stop();

  // What a server started for this transport gets in its environment: the
  // perturbation library and its settings, when the run asks for them.
  std::vector<std::string> Environment() const;

  // OK when the perturbation reached the server: some process started for
  // this transport made a socket call through the library. A static binary,
  // or a runtime that makes system calls itself, never does.
  absl::Status PerturbationInEffect() const;

 private:
  absl::Status PreparePerturbation();
  std::string AnnouncePath() const;
  absl::StatusOr<std::string> FreshAddress();

  const CheckOptions& options_;
  ContractTransport transport_;
  uint64_t perturb_seed_;
  absl::Duration ready_after_;
  std::optional<TempDir> dir_;
  std::optional<TempDir> perturb_dir_;
  std::vector<std::string> notes_;
  std::optional<Endpoint> endpoint_;
  std::optional<SutProcess> server_;
  std::vector<std::unique_ptr<SutProcess>> fd_servers_;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_PEER_LINK_H_
