#include "connection.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace epoll_server {
namespace {

// Replies smaller than this are appended to the tail of the output queue,
// so pipelined small requests cost one allocation and one iovec, not many.
constexpr size_t kCoalesce = 4u << 10;
constexpr int kMaxIov = 64;

// B replies are never materialised: they are sent straight out of this
// table, which repeats 0..250 so any offset i starts at byte i mod 251.
constexpr size_t kPatternPeriod = 251;
struct PatternTable {
  unsigned char bytes[kPatternPeriod * 256];
  PatternTable() {
    for (size_t i = 0; i < sizeof(bytes); ++i) {
      bytes[i] = static_cast<unsigned char>(i % kPatternPeriod);
    }
  }
};
const PatternTable kPattern;

uint32_t LoadBe32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void AppendBe32(std::string* out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(bytes, 4);
}

void Queue(Connection* c, std::string literal, size_t pattern) {
  c->out_bytes += literal.size() + pattern;
  if (!c->out.empty() && !c->out.back().literal.empty() &&
      literal.size() < kCoalesce && c->out.back().literal.size() < kReadChunk) {
    c->out.back().literal += literal;
  } else {
    c->out.push_back(Chunk{std::move(literal), 0, 0});
  }
  if (pattern > 0) c->out.push_back(Chunk{std::string(), pattern, 0});
}

}  // namespace

bool WholeFrameBuffered(const Connection& c) {
  const size_t avail = c.in_end - c.in_start;
  if (avail < 4) return false;
  const uint32_t length = LoadBe32(c.in.data() + c.in_start);
  return length == 0 || length > kMaxFrame || avail - 4 >= length;
}

void DrainUnread(int fd) {
  static unsigned char scratch[kReadChunk];
  for (int i = 0; i < 16; ++i) {
    const ssize_t n = ::recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
  }
}

void Flush(Connection& c, size_t* budget) {
  while (!c.out.empty() && *budget > 0) {
    iovec iov[kMaxIov];
    int count = 0;
    for (const Chunk& chunk : c.out) {
      if (count == kMaxIov) break;
      if (!chunk.literal.empty()) {
        iov[count].iov_base =
            const_cast<char*>(chunk.literal.data()) + chunk.sent;
        iov[count].iov_len = chunk.literal.size() - chunk.sent;
        ++count;
        continue;
      }
      for (size_t pos = chunk.sent; pos < chunk.pattern && count < kMaxIov;) {
        const size_t offset = pos % kPatternPeriod;
        const size_t len =
            std::min(chunk.pattern - pos, sizeof(kPattern.bytes) - offset);
        iov[count].iov_base =
            const_cast<unsigned char*>(kPattern.bytes) + offset;
        iov[count].iov_len = len;
        ++count;
        pos += len;
      }
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    // MSG_NOSIGNAL: a peer that vanished costs this connection, not the
    // process.
    const ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.writable = false;
        break;
      }
      c.state = State::kGone;  // EPIPE, ECONNRESET: the peer is gone
      return;
    }
    // A short write is not EAGAIN: go round again until the kernel says so.
    size_t left = static_cast<size_t>(n);
    *budget -= std::min(*budget, left);
    c.out_bytes -= left;
    while (left > 0) {
      Chunk& front = c.out.front();
      const size_t rest = front.size() - front.sent;
      if (left < rest) {
        front.sent += left;
        break;
      }
      left -= rest;
      c.out.pop_front();
    }
  }
  if (c.paused && c.out_bytes < kLowWater) c.paused = false;
}

void Read(Connection& c, size_t* budget) {
  // Compact: what is left is at most one partial frame, so a large frame
  // is moved at most once.
  if (c.in_start == c.in_end) {
    c.in_start = c.in_end = 0;
    if (c.in.size() > 4 * kReadChunk) c.in = {};  // give back a big buffer
  } else if (c.in_start > 0) {
    std::memmove(c.in.data(), c.in.data() + c.in_start, c.in_end - c.in_start);
    c.in_end -= c.in_start;
    c.in_start = 0;
  }
  size_t want = c.in_end + kReadChunk;
  if (c.in_end >= 4) {
    // The header was checked by ProcessFrames. Grow towards the frame's
    // size geometrically, so memory follows the bytes actually received.
    const size_t need = 4 + size_t{LoadBe32(c.in.data())};
    if (need > c.in_end) want = std::min(need, std::max(want, 2 * c.in_end));
  }
  if (c.in.size() < want) {
    c.in.reserve(want);  // exactly, not the doubling resize() would do
    c.in.resize(want);
  }
  const ssize_t n =
      ::recv(c.fd, c.in.data() + c.in_end, c.in.size() - c.in_end, 0);
  if (n > 0) {
    c.in_end += static_cast<size_t>(n);
    *budget -= std::min(*budget, static_cast<size_t>(n));
  } else if (n == 0) {
    c.eof = true;
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    c.readable = false;
  } else if (errno != EINTR) {
    c.state = State::kGone;
  }
}

void Discard(Connection& c, size_t* budget) {
  static unsigned char scratch[kReadChunk];
  while (*budget > 0) {
    const ssize_t n = ::recv(c.fd, scratch, sizeof(scratch), 0);
    if (n > 0) {
      *budget -= std::min(*budget, static_cast<size_t>(n));
    } else if (n == 0) {
      c.state = State::kGone;
      return;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c.readable = false;
      return;
    } else if (errno != EINTR) {
      c.state = State::kGone;
      return;
    }
  }
}

bool ProcessFrames(Connection& c, size_t open_connections) {
  bool progressed = false;
  while (c.state == State::kOpen && !c.paused) {
    const size_t avail = c.in_end - c.in_start;
    if (avail < 4) break;
    const unsigned char* frame = c.in.data() + c.in_start;
    const uint32_t length = LoadBe32(frame);
    bool bad = length == 0 || length > kMaxFrame;
    // Checked before waiting for the body: a bad length must not make us
    // buffer (or allocate) anything for it.
    if (!bad && avail - 4 < length) break;
    const unsigned char* body = frame + 4;
    std::string reply;
    if (!bad) {
      switch (body[0]) {
        case 'E':
          reply.reserve(4 + length);
          AppendBe32(&reply, length);
          reply.append(reinterpret_cast<const char*>(body), length);
          Queue(&c, std::move(reply), 0);
          break;
        case 'B': {
          const uint32_t n = length == 5 ? LoadBe32(body + 1) : kMaxFrame;
          if (n > kMaxFrame - 1) {
            bad = true;
            break;
          }
          AppendBe32(&reply, n + 1);
          reply.push_back('B');
          Queue(&c, std::move(reply), n);
          break;
        }
        case 'N': {
          const std::string count = "N" + std::to_string(open_connections);
          AppendBe32(&reply, static_cast<uint32_t>(count.size()));
          reply += count;
          Queue(&c, std::move(reply), 0);
          break;
        }
        case 'S':
          c.state = State::kShutAfterFlush;
          break;
        case 'C':
          c.state = State::kCloseAfterFlush;
          break;
        case 'A':
          c.state = State::kAbortNow;
          return true;
        default:
          bad = true;
      }
    }
    if (bad) {
      // Protocol error: earlier replies still go out, this frame gets none.
      c.state = State::kCloseAfterFlush;
      c.in = {};
      c.in_start = c.in_end = 0;
      return true;
    }
    c.in_start += 4 + size_t{length};
    progressed = true;
    if (c.out_bytes >= kHighWater) c.paused = true;
  }
  return progressed;
}

}  // namespace epoll_server
