// The client contract (docs/CLIENT_CONTRACT.md) on libuv: one loop,
// uv_pipe_connect for UNIX paths, uv_tcp_connect for TCP, uv_pipe_open for
// fd:N; one uv_write of the requests, uv_read_start for the replies.
//
// Transport notes: libuv 1.44 (Debian 12) copies a pipe name into sun_path
// as a C string, so uv_pipe_connect cannot reach an abstract name (a
// leading NUL); uv_pipe_connect2 with UV_PIPE_NO_TRUNCATE came in 1.46.
// unix:@NAME exits 64. SIGPIPE is left at its default: libuv writes to
// sockets with write(2) and leaves SIGPIPE to its users. A UNIX listener
// with a full backlog fails uv_pipe_connect with UV_EAGAIN (only
// EINPROGRESS counts as a connect under way); reported as libuv says.
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "sockparity/net/endpoint.h"

namespace {

uv_loop_t* loop = nullptr;
uv_signal_t sigterm;
union {
  uv_pipe_t pipe;
  uv_tcp_t tcp;
} connection;
uv_handle_t* handle = reinterpret_cast<uv_handle_t*>(&connection);
uv_stream_t* stream = reinterpret_cast<uv_stream_t*>(&connection);
uv_connect_t connect_request;
uv_write_t write_request;
std::vector<char> requests;
char buffer[64 * 1024];
bool ended = false, write_reset = false;

// The reply being read: its header so far, then what is left of its
// payload and the hash of what came of it.
uint8_t header[4];
size_t header_size = 0;
uint32_t length = 0, remaining = 0, hash = 0;

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// libuv's name for an error ("ENOENT", "EAGAIN"...), EOTHER if it has none.
std::string ErrorName(int status) {
  const std::string name = uv_err_name(status);
  return name.find(' ') == std::string::npos ? name : "EOTHER";
}

void End(const std::string& how) {
  if (ended) return;
  ended = true;
  Say("end " + how);
  if (!uv_is_closing(handle)) uv_close(handle, nullptr);
}

void Feed(const uint8_t* data, size_t size) {
  for (;;) {
    if (header_size == 4 && remaining == 0) {
      char line[64];
      std::snprintf(line, sizeof(line), "reply %u %08x", length, hash);
      Say(line);
      header_size = 0;
    }
    if (size == 0) return;
    if (header_size < 4) {
      const size_t n = std::min(size, 4 - header_size);
      std::memcpy(header + header_size, data, n);
      header_size += n, data += n, size -= n;
      if (header_size < 4) continue;
      length = remaining = uint32_t{header[0]} << 24 |
                           uint32_t{header[1]} << 16 |
                           uint32_t{header[2]} << 8 | header[3];
      hash = 2166136261u;
    } else {
      const size_t n = std::min<size_t>(size, remaining);
      for (size_t i = 0; i < n; ++i) hash = (hash ^ data[i]) * 16777619u;
      remaining -= n, data += n, size -= n;
    }
  }
}

void OnAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(buffer, sizeof(buffer));
}

void OnRead(uv_stream_t*, ssize_t n, const uv_buf_t*) {
  if (n > 0) return Feed(reinterpret_cast<uint8_t*>(buffer), n);
  if (n == 0) return;  // EAGAIN
  // A write that took the reset (ECONNRESET) leaves the read end of stream.
  if (n == UV_ECONNRESET || write_reset) return End("reset");
  if (n == UV_EOF) return End(header_size > 0 ? "eof partial" : "eof");
  End("error " + ErrorName(n));
}

void OnWritten(uv_write_t*, int status) {
  // How the connection ended, the read tells: replies may still be waiting.
  if (status == UV_ECONNRESET) write_reset = true;
}

void Start() {
  int status = uv_read_start(stream, OnAlloc, OnRead);
  if (status == 0 && !requests.empty()) {
    uv_buf_t buf = uv_buf_init(requests.data(), requests.size());
    status = uv_write(&write_request, stream, &buf, 1, OnWritten);
  }
  if (status < 0) End("error " + ErrorName(status));
}

void OnConnect(uv_connect_t*, int status) {
  if (status == UV_ECONNREFUSED) return End("refused");
  if (status < 0) return End("error " + ErrorName(status));
  Say("connected");
  Start();
}

void OnSigterm(uv_signal_t*, int) {
  if (!uv_is_closing(handle)) uv_close(handle, nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
}

// All of standard input (a file or a pipe: not something to poll).
bool ReadAll(int fd) {
  char chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n == 0) return true;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    requests.insert(requests.end(), chunk, chunk + n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS < requests\n", argv[0]);
    return 2;
  }
  const std::string address = argv[1];
  const absl::StatusOr<int> fd = sockparity::ParseInheritedFd(address);
  std::optional<sockparity::Endpoint> endpoint;
  if (!fd.ok()) {
    endpoint = sockparity::ParseServerAddress(address);
    if (!endpoint) return 2;
    if (endpoint->kind() == sockparity::TransportKind::kUnixAbstract) {
      std::fprintf(stderr, "libuv %s cannot connect to an abstract name\n",
                   uv_version_string());
      return 64;
    }
  }
  loop = uv_default_loop();
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigterm, OnSigterm, SIGTERM);
  if (!ReadAll(STDIN_FILENO)) {
    std::perror("reading standard input");
    return 1;
  }
  if (fd.ok()) {
    uv_pipe_init(loop, &connection.pipe, 0);
    const int status = uv_pipe_open(&connection.pipe, *fd);
    if (status < 0) {
      End("error " + ErrorName(status));
    } else {
      Start();
    }
  } else if (endpoint->domain() == AF_UNIX) {
    uv_pipe_init(loop, &connection.pipe, 0);
    uv_pipe_connect(&connect_request, &connection.pipe,
                    std::string(endpoint->path()).c_str(), OnConnect);
  } else {
    uv_tcp_init(loop, &connection.tcp);
    const int status = uv_tcp_connect(&connect_request, &connection.tcp,
                                      endpoint->addr(), OnConnect);
    if (status < 0) End("error " + ErrorName(status));
  }
  uv_run(loop, UV_RUN_DEFAULT);  // after "end", sleeps until SIGTERM
  uv_loop_close(loop);
  return 0;
}
