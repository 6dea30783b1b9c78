// One connection, start to end, on its own thread: each frame read exactly
// (its header, then its L bytes), replies written in full before the next
// header is read.
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "threaded_server.h"

namespace threaded_server {

Registry& registry = *new Registry;

namespace {

constexpr uint32_t kMaxFrame = 16u << 20;
constexpr uint32_t kMaxBulk = kMaxFrame - 1;  // 'B' plus N bytes must fit
constexpr size_t kChunk = 64 * 1024;
// A whole number of 251-byte periods, so consecutive slices of it starting
// at 0 continue the sequence i mod 251 without any offset arithmetic.
constexpr size_t kPatternSize = 251 * 261;
// Large enough for the 16 KiB drain buffer and libc, small enough that a few
// hundred connections cost little address space.
constexpr size_t kThreadStack = 512 * 1024;

uint8_t pattern[kPatternSize];

// Waits for readiness. Only reached if a socket is non-blocking after all
// (an inherited fd:N, or an EAGAIN we did not expect): better than spinning.
bool WaitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  while (::poll(&p, 1, -1) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

// False on end of stream (even after part of the bytes) or on an error: the
// caller closes the connection either way, with no reply to a partial frame.
bool ReadExact(int fd, void* data, size_t size) {
  auto* p = static_cast<uint8_t*>(data);
  while (size > 0) {
    const ssize_t got = ::recv(fd, p, size, 0);
    if (got > 0) {
      p += got;
      size -= static_cast<size_t>(got);
    } else if (got == 0) {
      return false;
    } else if (errno == EINTR) {
      continue;
    } else if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
               WaitFor(fd, POLLIN)) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

// Reads and drops `size` bytes, so that a frame is consumed whole without
// reserving memory for it.
bool Skip(int fd, size_t size) {
  uint8_t sink[16 * 1024];
  while (size > 0) {
    const size_t take = std::min(size, sizeof(sink));
    if (!ReadExact(fd, sink, take)) return false;
    size -= take;
  }
  return true;
}

// MSG_NOSIGNAL: a peer gone mid-write ends this connection, not the process.
// MSG_MORE on all but a reply's last piece keeps TCP from sending the small
// header alone and then waiting for an ACK (Nagle) before the rest.
bool SendAll(int fd, const void* data, size_t size, bool more) {
  const auto* p = static_cast<const uint8_t*>(data);
  const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  while (size > 0) {
    const ssize_t sent = ::send(fd, p, size, flags);
    if (sent >= 0) {
      p += sent;
      size -= static_cast<size_t>(sent);
    } else if (errno == EINTR) {
      continue;
    } else if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
               WaitFor(fd, POLLOUT)) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

void PutBigEndian(uint32_t value, uint8_t* out) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
}

uint32_t GetBigEndian(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) |
         (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

// `buffer` is reused across frames: [header][opcode][body]. It grows as the
// body arrives rather than to L at once, so a client that announces 16 MiB
// and then stalls costs little.
bool Echo(int fd, size_t body, std::vector<uint8_t>& buffer) {
  constexpr size_t kPrefix = 5;
  buffer.resize(kPrefix);
  size_t have = 0;
  while (have < body) {
    const size_t want = std::min(body - have, std::max(kChunk, have));
    buffer.resize(kPrefix + have + want);
    if (!ReadExact(fd, buffer.data() + kPrefix + have, want)) return false;
    have += want;
  }
  PutBigEndian(static_cast<uint32_t>(body + 1), buffer.data());
  buffer[4] = 'E';
  const bool ok = SendAll(fd, buffer.data(), buffer.size(), false);
  // Do not keep a 16 MiB buffer for an idle connection.
  if (buffer.capacity() > 4 * kChunk) std::vector<uint8_t>().swap(buffer);
  return ok;
}

// Written in slices of the shared pattern: no allocation, whatever N is.
bool Bulk(int fd) {
  uint8_t request[4];
  if (!ReadExact(fd, request, sizeof(request))) return false;
  const uint32_t count = GetBigEndian(request);
  if (count > kMaxBulk) return false;
  uint8_t prefix[5];
  PutBigEndian(count + 1, prefix);
  prefix[4] = 'B';
  if (!SendAll(fd, prefix, sizeof(prefix), count > 0)) return false;
  size_t left = count;
  while (left > 0) {
    const size_t take = std::min(left, kPatternSize);
    left -= take;
    if (!SendAll(fd, pattern, take, left > 0)) return false;
  }
  return true;
}

bool Count(int fd) {
  size_t open;
  {
    std::lock_guard<std::mutex> lock(registry.mu);
    open = registry.fds.size();
  }
  char reply[32];
  const int digits = std::snprintf(reply + 5, sizeof(reply) - 5, "%zu", open);
  PutBigEndian(static_cast<uint32_t>(1 + digits),
               reinterpret_cast<uint8_t*>(reply));
  reply[4] = 'N';
  return SendAll(fd, reply, static_cast<size_t>(5 + digits), false);
}

// After S: every earlier reply is already written (writes are synchronous),
// so the half-close can go out now; what follows is read only to be dropped,
// until the client ends its side.
void HalfCloseAndDrain(int fd) {
  ::shutdown(fd, SHUT_WR);
  uint8_t sink[16 * 1024];
  while (true) {
    const ssize_t got = ::recv(fd, sink, sizeof(sink), 0);
    if (got > 0) continue;
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
        WaitFor(fd, POLLIN)) {
      continue;
    }
    return;
  }
}

void Release(int fd) {
  std::lock_guard<std::mutex> lock(registry.mu);
  registry.fds.erase(fd);
  ::close(fd);
  if (registry.fds.empty()) {
    registry.empty.notify_all();
    if (registry.done_fd >= 0) (void)!::write(registry.done_fd, "x", 1);
  }
}

// One connection, start to end. Replies are written before the next header
// is read, so a blocked write stops the reading: that is the backpressure.
void Serve(int fd) {
  std::vector<uint8_t> buffer;
  bool more = true;
  while (more) {
    uint8_t header[4];
    if (!ReadExact(fd, header, sizeof(header))) break;
    const uint32_t length = GetBigEndian(header);
    // Protocol errors close before anything of size L is read or reserved.
    if (length == 0 || length > kMaxFrame) break;
    uint8_t opcode;
    if (!ReadExact(fd, &opcode, 1)) break;
    const size_t body = length - 1;
    more = false;
    switch (opcode) {
      case 'E':
        more = Echo(fd, body, buffer);
        break;
      case 'B':
        more = body == 4 && Bulk(fd);
        break;
      case 'N':
        more = body == 0 && Count(fd);
        break;
      // S, C and A take effect once their frame is whole, like any request;
      // a body is allowed and ignored.
      case 'S':
        if (Skip(fd, body)) HalfCloseAndDrain(fd);
        break;
      case 'C':
        Skip(fd, body);
        break;
      case 'A':
        if (Skip(fd, body)) {
          const linger abort{1, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
        }
        break;
      default:
        break;
    }
  }
  Release(fd);
}

void* ConnectionThread(void* arg) {
  Serve(static_cast<int>(reinterpret_cast<intptr_t>(arg)));
  return nullptr;
}

}  // namespace

void FillPattern() {
  for (size_t i = 0; i < kPatternSize; ++i) {
    pattern[i] = static_cast<uint8_t>(i % 251);
  }
}

// The descriptor is counted (for N) from the moment it is accepted.
void Spawn(int fd) {
  {
    std::lock_guard<std::mutex> lock(registry.mu);
    registry.fds.insert(fd);
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, kThreadStack);
  pthread_t thread;
  const int error = pthread_create(&thread, &attr, ConnectionThread,
                                   reinterpret_cast<void*>(intptr_t{fd}));
  pthread_attr_destroy(&attr);
  if (error != 0) {
    std::fprintf(stderr, "pthread_create: %s\n", std::strerror(error));
    Release(fd);  // refuse this one, keep serving the rest
  }
}

}  // namespace threaded_server
