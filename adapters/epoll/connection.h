// One client connection of the epoll server: its input buffer, its output
// queue and the peer-contract protocol on them. No epoll here: these
// functions do one connection's I/O until EAGAIN, a budget or a state
// change, and report through the connection's fields.
#ifndef SOCKPARITY_ADAPTERS_EPOLL_CONNECTION_H_
#define SOCKPARITY_ADAPTERS_EPOLL_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace epoll_server {

constexpr uint32_t kMaxFrame = 16u << 20;
// Past kHighWater queued reply bytes a connection is not read until the
// queue is back under kLowWater: a client that does not read its replies
// gets backpressure, not an unbounded queue.
constexpr size_t kHighWater = 1u << 20;
constexpr size_t kLowWater = 256u << 10;
constexpr size_t kReadChunk = 64u << 10;

// What an epoll event's data.ptr points at.
enum class Kind { kListener, kSignal, kConnection };
struct Watched {
  Kind kind;
};

// One entry of the output queue: literal bytes, or a run of the B pattern.
struct Chunk {
  std::string literal;
  size_t pattern = 0;  // pattern bytes, when literal is empty
  size_t sent = 0;
  size_t size() const { return literal.empty() ? pattern : literal.size(); }
};

enum class State {
  kOpen,
  kShutAfterFlush,   // S seen: half-close once the queue is empty
  kDiscarding,       // after S: read and drop until end of stream
  kCloseAfterFlush,  // C, protocol error or end of stream
  kAbortNow,         // A: reset, dropping whatever is queued
  kGone,             // reset by the peer, or done: close now
};

struct Connection : Watched {
  Connection() : Watched{Kind::kConnection} {}
  int fd = -1;
  // Bytes [in_start, in_end) of in are received but not yet consumed.
  std::vector<unsigned char> in;
  size_t in_start = 0;
  size_t in_end = 0;
  std::deque<Chunk> out;
  size_t out_bytes = 0;  // logical bytes still to send, pattern included
  State state = State::kOpen;
  // What the socket may still give without a new edge: cleared only by
  // EAGAIN, so bytes left behind by a pause are not forgotten.
  bool readable = true;
  bool writable = true;
  bool eof = false;
  bool paused = false;  // backpressure: not reading, not parsing
  bool queued = false;  // on the server's ready list
  bool dead = false;    // closed; freed at the end of the loop iteration
};

// Sends queued replies until the queue is empty, the socket says EAGAIN
// (writable = false) or *budget bytes went out. Lifts the pause below the
// low-water mark.
void Flush(Connection& c, size_t* budget);
// One recv into the input buffer: eof, readable = false on EAGAIN.
void Read(Connection& c, size_t* budget);
// After S: reads and drops until EAGAIN, end of stream (kGone) or budget.
void Discard(Connection& c, size_t* budget);
// Parses whole frames out of the input buffer and queues their replies.
// Returns whether it consumed anything or changed the state.
bool ProcessFrames(Connection& c, size_t open_connections);
// Whether ProcessFrames can act now: a complete frame, or a bad header.
bool WholeFrameBuffered(const Connection& c);
// Reads what has already arrived, so that close() sends an end of stream
// rather than a reset that may overtake the last replies.
void DrainUnread(int fd);

}  // namespace epoll_server

#endif  // SOCKPARITY_ADAPTERS_EPOLL_CONNECTION_H_
