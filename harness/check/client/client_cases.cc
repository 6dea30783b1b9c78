#include "check/client/client_cases.h"

#include "check/case_helpers.h"
#include "sockparity/check/peer_contract.h"

namespace sockparity::internal {

Bytes EchoRequest(absl::string_view body) {
  Bytes payload = ToBytes("E");
  payload.insert(payload.end(), body.begin(), body.end());
  return payload;
}

const std::vector<ClientCase>& ClientCases() {
  static const std::vector<ClientCase>* const cases = [] {
    auto* all = new std::vector<ClientCase>;
    AddClientConnectCases(*all);
    AddClientReadCases(*all);
    AddClientEndCases(*all);
    return all;
  }();
  return *cases;
}

}  // namespace sockparity::internal
