// Internal: the actions the lifecycle generator takes on a socket, and the
// menus that weight them by the socket's state (script_gen_actions.cc).
#ifndef SOCKPARITY_SCRIPT_SCRIPT_GEN_MENUS_H_
#define SOCKPARITY_SCRIPT_SCRIPT_GEN_MENUS_H_

#include <cstdint>

namespace sockparity::internal {

// What Do makes on a socket. A fuzzer's input picks one of the first
// kEveryAction uniformly (two values for the commonest steps); the rest are
// reached through the menus below. The values are the input's encoding:
// renumbering them changes every corpus input's script.
enum Action : uint32_t {
  kSend = 0,
  kSendToo = 1,
  kRecv = 2,
  kRecvCount = 3,  // recv-exactly or recv-waitall
  kRecvCountToo = 4,
  kRecvUntilEof = 5,
  kDrain = 6,
  kPeek = 7,
  kSendFd = 8,
  kRecvFd = 9,
  kFill = 10,
  kShutdown = 11,
  kCloseOrAbort = 12,
  kCloseOrAbortToo = 13,
  kPoll = 14,
  kNonblock = 15,
  kSoError = 16,
  kLook = 17,  // a getsockopt or a name
  kTcpState = 18,
  kStat = 19,
  kQueueSize = 20,  // inq or outq
  kEpoll = 21,      // level or edge
  kLinger = 22,
  kSendOob = 23,
  kRecvOob = 24,
  kRcvlowat = 25,
  kRelisten = 26,
  kReconnect = 27,
  kAccept = 28,
  kAcceptToo = 29,
  kEveryAction = 30,  // the actions above
  kConnectToIt = 30,
  kBindSameToIt = 31,
  kConnectAsNobodyToIt = 32,
  // Again to where it connected, as a caller of a non-blocking connect
  // does to learn how it went.
  kReconnectSameTarget = 33,
  // Closed first, then by its peer, as a server that ends the conversation
  // does; and half the time the server then stops (what the port then
  // holds is where kinds differ).
  kCloseThenPeer = 34,
  // Closed with its peer's buffer full (the peer's data unread, or its own
  // held back): what the peer's write and read then meet.
  kCloseBeforeFullPeer = 35,
  kEpollEdge = 36,
  // A listener closed or aborted with connections queued, and at once one
  // of their clients acts on what it was left with: a server that stops
  // before it serves them.
  kDropQueued = 37,
  // A caller that gives up on a connection shuts it down and connects the
  // same socket again.
  kShutdownThenReconnect = 38,
};

// The steps that change a socket in its role. On a listener nearly every
// data step gives the same error on every kind; the differences are in how
// its queue, port and file go (accept, close, shutdown, relisten) and what
// its clients see. An unconnected socket (bound, refused) differs in what
// listening or connecting it again does.
inline constexpr Action kListenerActions[] = {
    kAccept,
    kAccept,
    kAccept,
    kCloseOrAbort,
    kCloseOrAbort,
    kShutdown,
    kRelisten,
    kPoll,
    kEpoll,
    kSoError,
    kTcpState,
    kQueueSize,
    kNonblock,
    kConnectToIt,
    kConnectToIt,
    kBindSameToIt,
    kConnectAsNobodyToIt,
    kDropQueued,
    kDropQueued,
};
inline constexpr Action kGoneListenerActions[] = {kConnectToIt, kBindSameToIt,
                                                  kConnectAsNobodyToIt};
inline constexpr Action kUnconnectedActions[] = {
    kRelisten, kReconnect,   kReconnect,    kShutdown, kShutdown,
    kPoll,     kSoError,     kCloseOrAbort, kLook,     kSend,
    kRecv,     kConnectToIt, kBindSameToIt,
};
// Its connection is gone (reset by the peer's abort or its listener's
// close, or ended by the peer's close), the socket still open: TCP is in
// CLOSE or CLOSE_WAIT, UNIX still connected to a dead peer. What a
// shutdown, a connect again and a bind to its address then meet differ.
inline constexpr Action kGoneConnectionActions[] = {
    kShutdown,
    kShutdownThenReconnect,
    kReconnectSameTarget,
    kBindSameToIt,
    kBindSameToIt,
    kSoError,
    kSend,
    kRecv,
    kPoll,
};
inline constexpr Action kFilledActions[] = {
    kSend,
    kSendFd,
    kSendOob,
    kShutdown,
    kCloseOrAbort,
    kCloseBeforeFullPeer,
    kCloseBeforeFullPeer,
    kPoll,
    kEpoll,
    kQueueSize,
    kNonblock,
    kLinger,
};
inline constexpr Action kFullReaderActions[] = {
    kRecv,  kRecvCount, kDrain,    kPeek,         kPoll,
    kEpoll, kQueueSize, kShutdown, kCloseOrAbort,
    kSend,  // to a peer that may have closed behind it
};
// An urgent byte came: what reads meet at the mark, and what the mark
// tells (poll's PRI, SIOCATMARK through inq, recv-oob).
inline constexpr Action kUrgentReaderActions[] = {
    kRecv, kRecvCount, kRecvFd, kRecvOob, kRecvOob, kPoll, kPeek, kQueueSize,
};
// Registered for edge-triggered epoll: what makes a new edge (its own
// writes, and on UNIX its peer's reads) is seen by the next epoll-edge.
inline constexpr Action kEdgeActions[] = {kEpollEdge, kEpollEdge, kSend,
                                          kSendFd};
inline constexpr Action kEdgePeerActions[] = {kRecv, kRecvCount, kDrain, kSend};
// Its peer has an urgent byte: another one moves the mark.
inline constexpr Action kUrgentWriterActions[] = {kSendOob, kSendOob, kSend,
                                                  kSendFd};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_SCRIPT_GEN_MENUS_H_
