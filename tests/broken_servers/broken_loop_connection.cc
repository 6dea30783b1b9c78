// broken_loop_server's connections: the peer contract's protocol on one
// connection's buffers, and its reads and writes (with the bugs that live
// there: hangup-spin, reset-after-fin-leak, spin-after-close,
// unbounded-replies, half-close-unix).
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "broken_loop_server.h"
#include "sockparity/check/peer_contract.h"

namespace broken_loop {

void CloseConn(Conn& c) {
  if (c.gone) return;
  ::close(c.fd);
  c.gone = true;
  --live;
  accept_paused = false;  // a descriptor is free again: try accept
  if (bug == "spin-after-close") zero_timeout = true;
}

bool Backpressured(const Conn& c) {
  return c.out_bytes > kHighWater && bug != "unbounded-replies";
}

namespace {

void Abort(Conn& c) {
  linger abort{1, 0};
  ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  CloseConn(c);
}

void Queue(Conn& c, std::vector<uint8_t> frame) {
  c.out_bytes += frame.size();
  c.out.push_back(std::move(frame));
}

std::vector<uint8_t> Frame(const uint8_t* payload, uint32_t n) {
  std::vector<uint8_t> frame(4 + size_t{n});
  frame[0] = n >> 24;
  frame[1] = n >> 16;
  frame[2] = n >> 8;
  frame[3] = n;
  std::memcpy(frame.data() + 4, payload, n);
  return frame;
}

std::vector<uint8_t> BulkFrame(uint32_t n) {
  std::vector<uint8_t> frame(4 + 1 + size_t{n});
  const uint32_t length = n + 1;
  frame[0] = length >> 24;
  frame[1] = length >> 16;
  frame[2] = length >> 8;
  frame[3] = length;
  frame[4] = 'B';
  uint8_t period[251];
  for (int i = 0; i < 251; ++i) period[i] = static_cast<uint8_t>(i);
  for (size_t i = 0; i < n; i += 251)
    std::memcpy(frame.data() + 5 + i, period, std::min<size_t>(251, n - i));
  return frame;
}

// Answers the complete frames received, in order, while the output queue
// allows. Stops at C, S, A and protocol errors.
void ProcessInput(Conn& c) {
  while (!c.gone && !c.stop_input && !c.discard && !Backpressured(c)) {
    const size_t have = c.in.size() - c.in_off;
    if (have < 4) break;
    const uint8_t* p = c.in.data() + c.in_off;
    const uint32_t length = sockparity::DecodeLength(p);
    if (length == 0 || length > sockparity::kContractMaxFrame) {
      c.stop_input = c.close_when_flushed = true;  // protocol error
      break;
    }
    if (have - 4 < length) break;
    const uint8_t* payload = p + 4;
    c.in_off += 4 + size_t{length};
    switch (payload[0]) {
      case 'E':
        Queue(c, Frame(payload, length));
        break;
      case 'B': {
        const uint32_t n =
            length == 5 ? sockparity::DecodeLength(payload + 1) : ~0u;
        if (n > sockparity::kContractMaxFrame - 1) {
          c.stop_input = c.close_when_flushed = true;
        } else {
          Queue(c, BulkFrame(n));
        }
        break;
      }
      case 'N': {
        const std::string count = "N" + std::to_string(live);
        Queue(c, Frame(reinterpret_cast<const uint8_t*>(count.data()),
                       static_cast<uint32_t>(count.size())));
        break;
      }
      case 'S':
        c.discard = c.shut_pending = true;
        break;
      case 'A':
        Abort(c);
        return;
      default:  // C, or an unknown opcode (a protocol error)
        c.stop_input = c.close_when_flushed = true;
        break;
    }
  }
  if (c.discard || c.stop_input) {
    c.in.clear();
    c.in_off = 0;
  } else if (c.in_off > 0 && c.in_off * 2 >= c.in.size()) {
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<ptrdiff_t>(c.in_off));
    c.in_off = 0;
  }
}

}  // namespace

// What is due once the output queue is empty: close, or S's shutdown.
void Settle(Conn& c) {
  if (c.gone || c.dead) return;
  // End of stream read and every whole frame answered: the rest (if any) is
  // a partial frame, never answered.
  if (c.read_eof && !c.discard && !Backpressured(c))
    c.close_when_flushed = true;
  if (c.out_bytes > 0) return;
  if (c.close_when_flushed) return CloseConn(c);
  if (c.shut_pending) {
    ::shutdown(c.fd, SHUT_WR);
    c.shut_pending = false;
  }
  if (c.discard && c.read_eof) CloseConn(c);
}

// Reads what the socket has. `hangup`: poll said the peer is gone, so its
// read shows how (end of stream or an error), backpressure or not.
void OnReadable(Conn& c, bool hangup) {
  static uint8_t buffer[kReadChunk];
  for (size_t budget = 4 * kReadChunk; budget > 0;) {
    if (!hangup && !c.discard && (c.stop_input || Backpressured(c))) return;
    const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0 && hangup && c.out_bytes > 0 && bug == "hangup-spin") {
      c.dead = true;  // never closed, left in the poll set with events 0
      return;
    }
    if (n < 0) return CloseConn(c);  // a reset: nothing can be delivered
    if (n == 0) {
      c.read_eof = true;
      if (bug == "half-close-unix" && c.unix_socket) return CloseConn(c);
      ProcessInput(c);
      return;
    }
    budget -= std::min(budget, static_cast<size_t>(n));
    if (c.discard || c.stop_input) continue;  // S: dropped unread
    c.in.insert(c.in.end(), buffer, buffer + n);
    ProcessInput(c);
    if (c.gone) return;
  }
}

// Writes what the socket takes; on failure the connection ends.
void OnWritable(Conn& c) {
  while (!c.out.empty()) {
    const std::vector<uint8_t>& front = c.out.front();
    const ssize_t n = ::send(c.fd, front.data() + c.out_off,
                             front.size() - c.out_off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      if (bug == "reset-after-fin-leak" && c.read_eof) {
        c.gone = true;  // dropped from the poll set: not closed, not counted
        return;
      }
      if (bug == "hangup-spin") {
        // The write noticed the hangup first: the read is left to see it
        // (and marks the connection dead, output still pending).
        OnReadable(c, /*hangup=*/true);
        if (c.dead || c.gone) return;
      }
      return CloseConn(c);
    }
    c.out_off += static_cast<size_t>(n);
    c.out_bytes -= static_cast<size_t>(n);
    if (c.out_off == front.size()) {
      c.out.pop_front();
      c.out_off = 0;
    }
  }
  // Drained below the mark: answer what was held back.
  ProcessInput(c);
}

}  // namespace broken_loop
