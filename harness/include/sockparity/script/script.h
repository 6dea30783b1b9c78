// Lifecycle scripts: lists of socket calls on named sockets, with a text
// form of one step per line ("a send 5", "b recv-until-eof"), each step
// optionally asserting the outcome every kind must give ("b recv 10 = eof",
// "b recv 10 = local: eof; tcp: ECONNRESET").
#ifndef SOCKPARITY_SCRIPT_SCRIPT_H_
#define SOCKPARITY_SCRIPT_SCRIPT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sockparity/net/transport.h"

namespace sockparity {

enum class Verb {
  // Connected pairs and data.
  kPair,          // a pair b: a connected pair of the transport's kind
  kSend,          // send N pattern bytes, all of them
  kFill,          // non-blocking sends until EAGAIN
  kRecv,          // the bytes queued, up to N, waiting for data or the end
  kRecvExactly,   // N bytes
  kRecvUntilEof,  //
  kRecvWaitall,   // one recv(MSG_WAITALL) of N bytes
  kPeek,          // recv(MSG_PEEK | MSG_DONTWAIT) of up to N bytes
  kDrain,         // non-blocking recvs until EAGAIN, end of stream or error
  kSendFd,        // one byte carrying a descriptor (SCM_RIGHTS)
  kRecvFd,        // one byte and whatever descriptor came with it
  // Ending a connection.
  kShutdown,  // shutdown rd | wr | rdwr
  kClose,     //
  kAbort,     // SO_LINGER {1, 0}, then close
  // Looking at a socket.
  kPoll,          // poll snapshot
  kNonblock,      // set O_NONBLOCK
  kSoError,       // getsockopt SO_ERROR
  kPeercred,      // getsockopt SO_PEERCRED
  kSndbuf,        // getsockopt SO_SNDBUF
  kRcvbuf,        // getsockopt SO_RCVBUF
  kNodelay,       // setsockopt TCP_NODELAY 1
  kTcpState,      // TCP state (TCP_INFO; /proc/net/tcp* once closed)
  kSockname,      // getsockname
  kPeername,      // getpeername
  kSoAcceptconn,  // getsockopt SO_ACCEPTCONN
  // Listeners and addresses.
  kBind,             // bind a fresh address, no listen
  kListen,           // listen N: bind a fresh address and listen
  kBindSame,         // bind-same L [reuseaddr]: bind L's address again
  kBindPathLength,   // bind-path-length N: a unix address of N bytes
  kConnect,          // connect L, blocking (bounded by the step timeout)
  kConnectNb,        // connect-nb L: non-blocking connect
  kConnectMissing,   // connect where nothing was ever bound
  kConnectAsNobody,  // connect L from a child running as uid 65534
  kAccept,           // accept L: becomes the slot
  kStat,             // stat L's socket path
  // Queues, readiness and options the verbs above leave out.
  kInq,         // ioctl SIOCINQ (FIONREAD): bytes queued to read
  kOutq,        // ioctl SIOCOUTQ: bytes sent and not yet acknowledged
  kEpollLevel,  // epoll_wait on the socket's level-triggered epoll
  kEpollEdge,   // epoll_wait on the socket's edge-triggered epoll
  kLinger,      // linger N: SO_LINGER {1, N}, no close
  kSendOob,     // send one byte with MSG_OOB
  kRecvOob,     // recv(MSG_OOB | MSG_DONTWAIT) of one byte
  kRcvlowat,    // rcvlowat N: SO_RCVLOWAT N
  kRelisten,    // relisten N: listen(N) on an open socket
  kReconnect,   // reconnect L: connect an open socket to L again
};
// How many verbs there are (kReconnect stays last).
inline constexpr int kVerbCount = static_cast<int>(Verb::kReconnect) + 1;

// What a step must give on each kind, in kAllTransportKinds' order: an
// outcome, or a glob over it ('*', '?') where the number is the machine's
// (a UNIX buffer size is a sysctl).
struct Expectation {
  std::array<std::string, kAllTransportKinds.size()> outcomes;

  const std::string& For(TransportKind kind) const;
  // Whether `outcome` on `kind` is what is expected.
  bool Accepts(TransportKind kind, absl::string_view outcome) const;
  friend bool operator==(const Expectation&, const Expectation&) = default;
};

struct Step {
  std::string slot;  // the socket the step acts on (or creates)
  Verb verb;
  int64_t number = 0;   // N, where the verb takes one
  std::string target;   // another slot, where the verb takes one
  std::string keyword;  // rd/wr/rdwr, reuseaddr
  int line = 0;         // where it came from in the text, 0 if built
  std::optional<Expectation> expect;  // "= ..." after the step
};

struct Script {
  std::vector<Step> steps;
};

absl::string_view VerbName(Verb verb);
// The verb named `name`, if there is one.
bool VerbFromName(absl::string_view name, Verb* verb);
// A step's text, without its assertion: "a send 5".
std::string FormatStep(const Step& step);
// One line of text per step, with its assertion, as ParseScript reads it.
std::string FormatScript(const Script& script);
// "eof", or "local: eof; tcp: ECONNRESET" (kinds in kAllTransportKinds'
// order, "local" for the three UNIX kinds and "tcp" for both TCP ones).
std::string FormatExpectation(const Expectation& expect);

// Reads the text form; "#" starts a comment. A bad line is an
// INVALID_ARGUMENT naming its line and column; so is a step on a socket no
// earlier step made (a mistyped name), and an assertion that names an
// unknown kind or leaves a kind without an outcome.
absl::StatusOr<Script> ParseScript(absl::string_view text);

// The verbs' names and arguments, for usage text.
std::string ScriptSyntaxHelp();
// The whole reference, for docs/SCRIPTS.md: syntax, every verb, the outcome
// words and what is compared, in Markdown.
std::string ScriptReferenceMarkdown();

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_SCRIPT_H_
