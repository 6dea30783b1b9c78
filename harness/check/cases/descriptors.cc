// Case 12.x: descriptor exhaustion. The suite lowers the descriptor limit
// of an instance of the server started for the case (prlimit(2) on its
// pid: that process alone) until a few descriptors are left, and opens more
// connections than fit. accept(2) then fails with EMFILE; the server must
// keep serving what it has, neither exit nor spin, and serve again once
// descriptors are free.
#include <dirent.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "check/case_table.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/io.h"
#include "sockparity/net/listener.h"

namespace sockparity::internal {
namespace {

constexpr char kAccept[] =
    "https://man7.org/linux/man-pages/man2/accept.2.html";
constexpr int kFreeDescriptors = 4;
constexpr int kBurst = 16;

// The descriptor numbers `pid` has open.
std::set<int> DescriptorNumbers(pid_t pid) {
  std::set<int> numbers;
  if (DIR* dir = ::opendir(absl::StrCat("/proc/", pid, "/fd").c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      int number;
      if (absl::SimpleAtoi(entry->d_name, &number)) numbers.insert(number);
    }
    ::closedir(dir);
  }
  return numbers;
}

// The limit that leaves `free` descriptor numbers below it: new
// descriptors take the lowest free number, and must be below the limit.
rlim_t LimitLeaving(const std::set<int>& open, int free) {
  int limit = 0;
  for (int left = free; left > 0 || open.count(limit); ++limit) {
    if (!open.count(limit)) --left;
  }
  return static_cast<rlim_t>(limit);
}

void Exhaustion(Context& c) {
  c.AcceptMayWait();  // out of descriptors, a server may retry on a timer
  const std::optional<pid_t> pid = c.link().ServerPid();
  SutProcess* server = c.link().server();
  std::optional<Socket> held = c.Connect();
  if (!pid || server == nullptr || !held ||
      !c.Send(*held, ContractFrame("Eheld")) ||
      !c.ExpectFrame(*held, ToBytes("Eheld"))) {
    return;
  }
  const rlim_t limit = LimitLeaving(DescriptorNumbers(*pid), kFreeDescriptors);
  const rlimit low{limit, limit};
  if (::prlimit(*pid, RLIMIT_NOFILE, &low, nullptr) != 0) {
    c.CannotJudge(
        absl::StrCat("the server's descriptor limit cannot be "
                     "lowered: prlimit: ",
                     std::strerror(errno)));
    return;
  }
  c.Log(absl::StrCat("RLIMIT_NOFILE of pid ", *pid, " lowered to ", limit, ": ",
                     kFreeDescriptors, " descriptors left"));
  std::vector<Socket> burst;
  for (int i = 0; i < kBurst; ++i) {
    absl::StatusOr<Socket> s =
        sockparity::Connect(*c.link().endpoint(), absl::Seconds(1));
    if (!s.ok()) break;  // the listen queue is full: exhausted enough
    (void)SendAll(*s, ContractFrame("Eburst"), absl::Seconds(1));
    burst.push_back(std::move(*s));
  }
  c.Log(absl::StrCat(burst.size(), " more connections, each with a request"));
  // A server that ended is a zombie until reaped, and idle: its exit is
  // the reason then.
  const bool idle = ExpectIdle(c, *pid, "while descriptors are exhausted");
  if (std::optional<SutExit> ended = server->Poll()) {
    c.Fail(
        "the server to keep running when accept fails with EMFILE",
        absl::StrCat("it ended (", ended->Describe(), ")\n", server->Output()));
    return;
  }
  if (!idle) return;
  c.Stage("on a connection held while descriptors were exhausted");
  if (!c.Send(*held, ContractFrame("Estill held")) ||
      !c.ExpectFrame(*held, ToBytes("Estill held"))) {
    return;
  }
  burst.clear();
  c.Log("closed the burst");
  // Descriptors are free once the server has released the connections of
  // the burst it accepted: a connection made before that may meet the
  // EMFILE handling still (libuv accepts and closes it: a reset).
  c.Stage("once the burst was closed");
  // The connections of the burst the server accepts only now each carry a
  // request it may hold for the reply window before it sees the close, a
  // few at a time as descriptors allow: up to the timeout. How fast a
  // closed connection is released is judged by 11.x.
  if (!CountComesToOne(c, *held, "on the held connection", c.timeout())) return;
  c.Log("the server released the burst: descriptors free again");
  c.Stage("on a new connection once descriptors were free again");
  std::optional<Socket> after = c.Connect();
  if (after && c.Send(*after, ContractFrame("Eserved again")))
    c.ExpectFrame(*after, ToBytes("Eserved again"));
}

}  // namespace

void AddDescriptorCases(CaseTable& table) {
  table.Add({
      .info = {.id = "12.1",
               .name = "descriptors/exhaustion",
               .description =
                   "accept fails with EMFILE: the server keeps serving, "
                   "neither exits nor spins, and serves new connections once "
                   "descriptors are free",
               .clause = "When it runs out of descriptors (accept fails with "
                         "EMFILE or ENFILE), it keeps serving the connections "
                         "it has and serves new ones once descriptors are "
                         "free again; it neither exits nor spins",
               .reference = kAccept},
      .need = TransportNeed::kManyConnections,
      .fresh_server = true,
      .play = Exhaustion,
  });
}

}  // namespace sockparity::internal
