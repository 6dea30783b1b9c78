// Case 3.1: many requests before any reply is read.
#include <optional>

#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "check/case_table.h"
#include "sockparity/check/peer_contract.h"

namespace sockparity::internal {

void AddPipeliningCases(CaseTable& table) {
  table.Add({
      .info = {.id = "3.1",
               .name = "pipelining/500-frames",
               .description = "500 frames in one write, 500 replies in order",
               .clause = "Replies go out in request order, one per request "
                         "that has one",
               .reference = "docs/SUT_CONTRACT.md#frames"},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            Bytes stream;
            for (int i = 0; i < 500; ++i)
              Append(stream, ContractFrame(absl::StrCat("E", i)));
            BackgroundSend send(c, *s, stream);
            for (int i = 0; i < 500 && !c.failed(); ++i) {
              c.ExpectFrame(*s, ToBytes(absl::StrCat("E", i)));
            }
            (void)send.Join();
          },
  });
}

}  // namespace sockparity::internal
