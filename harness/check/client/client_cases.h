// Internal: the catalog of `sockparity check-client` as data, one row per
// case, in catalog order. Each group file adds its rows.
#ifndef SOCKPARITY_CHECK_CLIENT_CLIENT_CASES_H_
#define SOCKPARITY_CHECK_CLIENT_CLIENT_CASES_H_

#include <functional>
#include <vector>

#include "check/client/client_context.h"
#include "sockparity/check/peer_check.h"

namespace sockparity::internal {

struct ClientCase {
  CaseInfo info;
  ClientNeed need = ClientNeed::kAny;
  std::function<void(ClientContext&)> play;
};

void AddClientConnectCases(std::vector<ClientCase>& cases);
void AddClientReadCases(std::vector<ClientCase>& cases);
void AddClientEndCases(std::vector<ClientCase>& cases);

// Every case, built once.
const std::vector<ClientCase>& ClientCases();

// Requests as the contract frames them: `E` + `body`.
Bytes EchoRequest(absl::string_view body);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_CLIENT_CLIENT_CASES_H_
