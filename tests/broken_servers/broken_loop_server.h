// The parts of broken_loop_server (see broken_loop_server.cc for its bugs)
// and the state they share: one thread, so plain globals.
//   broken_loop_server.cc      the bugs' table, options, main
//   broken_loop_connection.cc  one connection's protocol, reads and writes
//   broken_loop_listener.cc    binding ADDRESS, accepting, the socket file
//   broken_loop_event_loop.cc  the poll(2) loop and the SIGTERM wakeup
#ifndef SOCKPARITY_TESTS_BROKEN_SERVERS_BROKEN_LOOP_SERVER_H_
#define SOCKPARITY_TESTS_BROKEN_SERVERS_BROKEN_LOOP_SERVER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sockparity/net/endpoint.h"
#include "sockparity/net/transport.h"

namespace broken_loop {

constexpr size_t kHighWater = 1u << 20;  // stop reading above this output
constexpr size_t kReadChunk = 256u << 10;
constexpr int kAcceptPauseMs = 100;

extern std::string bug;     // the one bug switched on, or "none"
extern int live;            // open client connections, for N
extern bool zero_timeout;   // spin-after-close
extern bool accept_paused;  // out of descriptors
extern int64_t accept_resume_ms;

struct Conn {
  int fd = -1;
  bool unix_socket = false;
  std::vector<uint8_t> in;  // received bytes from in_off on
  size_t in_off = 0;
  std::deque<std::vector<uint8_t>> out;  // whole frames; front is partly sent
  size_t out_off = 0;
  size_t out_bytes = 0;       // unsent bytes in `out`
  bool read_eof = false;      // the client's end of stream was read
  bool stop_input = false;    // C, protocol error, end inside a frame
  bool discard = false;       // after S: input is read and dropped
  bool shut_pending = false;  // S: shutdown(SHUT_WR) once out is empty
  bool close_when_flushed = false;
  bool dead = false;  // hangup-spin: never closed again
  bool gone = false;  // closed (or leaked); swept after the pass
};

extern std::vector<std::unique_ptr<Conn>> conns;

// CLOCK_MONOTONIC in milliseconds (broken_loop_event_loop.cc).
int64_t NowMs();

// broken_loop_connection.cc
// Closes the connection once (`gone`; swept after the poll pass).
void CloseConn(Conn& c);
// Whether its output queue holds input back (never for unbounded-replies).
bool Backpressured(const Conn& c);
// What is due once the output queue is empty: close, or S's shutdown.
void Settle(Conn& c);
// Reads what the socket has (`hangup`: poll said the peer is gone).
void OnReadable(Conn& c, bool hangup);
// Writes what the socket takes; on failure the connection ends.
void OnWritable(Conn& c);

// broken_loop_listener.cc
struct BoundFile {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
};
// Removes the socket file only if it is still the one this server bound.
void RemoveOwnFile(const BoundFile& file);
// Binds and listens; returns the listener or exits (1, or 64 without IPv6).
int Listen(const sockparity::Endpoint& endpoint, BoundFile& file);
// Accepts what is pending (up to 64), or pauses accepting when out of
// descriptors.
void AcceptAll(int listener, sockparity::TransportKind kind);

// broken_loop_event_loop.cc
// Makes SIGTERM wake the loop; false if that cannot be set up.
bool WatchSigterm();
// Serves until SIGTERM (true) or a failed poll (false).
bool RunLoop(int listener, sockparity::TransportKind kind);

}  // namespace broken_loop

#endif  // SOCKPARITY_TESTS_BROKEN_SERVERS_BROKEN_LOOP_SERVER_H_
