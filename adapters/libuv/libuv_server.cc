// The peer contract (docs/SUT_CONTRACT.md) on libuv: one loop, uv_pipe_t
// for UNIX sockets and fd:N, uv_tcp_t for TCP. Framing uses sockparity's
// codec; the I/O is all libuv's.
//
// Transport notes: libuv 1.44 (Debian 12) binds pipe names with strlen, so
// it cannot bind an abstract name (a leading NUL); this adapter binds every
// listening socket itself and hands it to libuv with uv_pipe_open /
// uv_tcp_open. An abortive close (A) sets SO_LINGER {1, 0} on the
// descriptor, since uv_tcp_close_reset exists only for TCP handles.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/codec/codecs.h"
#include "sockparity/net/endpoint.h"

using sockparity::Bytes;

namespace {

constexpr size_t kHighWater = 4u << 20;

const sockparity::Codec* codec = nullptr;
uv_loop_t* loop = nullptr;
uv_stream_t* listener = nullptr;
uv_signal_t sigterm;
bool single_connection = false;

struct Client;
std::set<Client*> clients;

struct Client {
  union {
    uv_pipe_t pipe;
    uv_tcp_t tcp;
  } handle;
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&handle); }
  std::unique_ptr<sockparity::FrameDecoder> decoder;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(64 * 1024);
  size_t queued = 0;
  int writes_in_flight = 0;
  bool reading = false, done_reading = false, discarding = false;
  bool shut_after_flush = false, shut_done = false, close_after_flush = false,
       closing = false;
};

struct Write {
  uv_write_t request;
  Bytes bytes;
  Client* client;
};

void CloseClient(Client* c);
void Resume(Client* c);

void OnClosed(uv_handle_t* handle) {
  Client* c = static_cast<Client*>(handle->data);
  clients.erase(c);
  delete c;
  if (single_connection && clients.empty() &&
      !uv_is_closing(reinterpret_cast<uv_handle_t*>(&sigterm))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
  }
}

void CloseClient(Client* c) {
  if (c->closing) return;
  c->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(c->stream()), OnClosed);
}

void OnShutdown(uv_shutdown_t* request, int) { delete request; }

void MaybeFinish(Client* c) {
  if (c->closing || c->writes_in_flight > 0) return;
  if (c->shut_after_flush && !c->shut_done) {
    c->shut_done = true;
    uv_shutdown(new uv_shutdown_t, c->stream(), OnShutdown);
  }
  if (c->close_after_flush) CloseClient(c);
}

void OnWritten(uv_write_t* request, int status) {
  Write* write = static_cast<Write*>(request->data);
  Client* c = write->client;
  c->queued -= write->bytes.size();
  c->writes_in_flight--;
  delete write;
  if (status < 0) return CloseClient(c);
  MaybeFinish(c);
  Resume(c);
}

void Reply(Client* c, const Bytes& payload) {
  auto* write = new Write;
  write->client = c;
  (void)codec->Encode(payload, write->bytes);
  write->request.data = write;
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(write->bytes.data()),
                             static_cast<unsigned>(write->bytes.size()));
  c->queued += write->bytes.size();
  c->writes_in_flight++;
  if (uv_write(&write->request, c->stream(), &buf, 1, OnWritten) != 0) {
    c->queued -= write->bytes.size();
    c->writes_in_flight--;
    delete write;
    CloseClient(c);
  }
}

void ProtocolError(Client* c) {
  c->done_reading = true;
  c->close_after_flush = true;
  MaybeFinish(c);
}

// Returns false when the connection takes no more requests.
bool Handle(Client* c, const Bytes& frame) {
  switch (frame[0]) {
    case 'E':
      Reply(c, frame);
      return true;
    case 'B': {
      std::optional<uint32_t> n = sockparity::ParseBulkRequest(frame);
      if (!n) return ProtocolError(c), false;
      Reply(c, sockparity::BulkReply(*n));
      return true;
    }
    case 'N': {
      if (frame.size() != 1) return ProtocolError(c), false;
      const std::string count = absl::StrCat("N", clients.size());
      Reply(c, Bytes(count.begin(), count.end()));
      return true;
    }
    case 'S':
      c->shut_after_flush = true;
      c->discarding = true;
      MaybeFinish(c);
      return false;
    case 'C':
      c->done_reading = true;
      c->close_after_flush = true;
      MaybeFinish(c);
      return false;
    case 'A': {
      uv_os_fd_t fd;
      if (uv_fileno(reinterpret_cast<uv_handle_t*>(c->stream()), &fd) == 0) {
        linger abort{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
      }
      c->done_reading = true;
      CloseClient(c);
      return false;
    }
    default:
      ProtocolError(c);
      return false;
  }
}

void OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  Client* c = static_cast<Client*>(handle->data);
  *buf = uv_buf_init(reinterpret_cast<char*>(c->buffer.data()),
                     static_cast<unsigned>(c->buffer.size()));
}

void Pause(Client* c) {
  if (c->reading) uv_read_stop(c->stream());
  c->reading = false;
}

void OnRead(uv_stream_t* stream, ssize_t n, const uv_buf_t*) {
  Client* c = static_cast<Client*>(stream->data);
  if (n == UV_EOF) {
    Pause(c);
    c->done_reading = true;
    c->close_after_flush = true;
    return MaybeFinish(c);
  }
  if (n < 0) return CloseClient(c);  // reset: drop it, serve the others
  if (n == 0 || c->discarding || c->done_reading) return;
  std::vector<Bytes> frames;
  absl::Status status = c->decoder->Feed(
      absl::MakeConstSpan(c->buffer.data(), static_cast<size_t>(n)), frames);
  for (const Bytes& frame : frames) {
    if (!Handle(c, frame)) {
      if (!c->discarding) Pause(c);
      return;
    }
  }
  if (!status.ok()) {
    Pause(c);
    return ProtocolError(c);
  }
  if (c->queued >= kHighWater) Pause(c);
}

void Resume(Client* c) {
  if (c->closing || c->reading || c->done_reading || c->queued >= kHighWater)
    return;
  if (uv_read_start(c->stream(), OnAlloc, OnRead) == 0) c->reading = true;
}

Client* NewClient(bool pipe) {
  auto* c = new Client;
  c->decoder = codec->NewDecoder();
  if (pipe) {
    uv_pipe_init(loop, &c->handle.pipe, 0);
  } else {
    uv_tcp_init(loop, &c->handle.tcp);
  }
  c->stream()->data = c;
  clients.insert(c);
  return c;
}

bool listener_is_pipe = true;

void OnConnection(uv_stream_t* server, int status) {
  if (status < 0) return;
  Client* c = NewClient(listener_is_pipe);
  if (uv_accept(server, c->stream()) != 0) return CloseClient(c);
  Resume(c);
}

void OnSigterm(uv_signal_t*, int) {
  if (listener != nullptr)
    uv_close(reinterpret_cast<uv_handle_t*>(listener), nullptr);
  for (Client* c : std::set<Client*>(clients)) CloseClient(c);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&sigterm))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
  }
}

// The file at `path`, if any (uv_fs_lstat, synchronous: no callback).
std::optional<uv_stat_t> FileAt(const std::string& path) {
  uv_fs_t request;
  std::optional<uv_stat_t> found;
  if (uv_fs_lstat(loop, &request, path.c_str(), nullptr) == 0)
    found = request.statbuf;
  uv_fs_req_cleanup(&request);
  return found;
}

void Unlink(const std::string& path) {
  uv_fs_t request;
  uv_fs_unlink(loop, &request, path.c_str(), nullptr);
  uv_fs_req_cleanup(&request);
}

// Whether a server accepts connections on the socket file at `path`. Only
// a refused connection proves the file stale; anything else counts as
// live. libuv connects without blocking, so a live server with a full
// backlog (UV_EAGAIN) cannot keep us waiting.
bool SomeoneListens(const std::string& path) {
  constexpr int kPending = 1;
  int status = kPending;
  uv_pipe_t probe;
  uv_connect_t request;
  request.data = &status;
  uv_pipe_init(loop, &probe, 0);
  uv_pipe_connect(&request, &probe, path.c_str(), [](uv_connect_t* r, int s) {
    *static_cast<int*>(r->data) = s;
  });
  while (status == kPending) uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&probe), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);  // completes the close
  return status != UV_ECONNREFUSED && status != UV_ENOENT;
}

// The listening socket, bound by hand (see the note at the top). A stale
// socket file (its server died) is replaced; a live one, or a file that is
// not a socket, is left alone. On failure says why and returns -1.
int Bind(const sockparity::Endpoint& endpoint, const std::string& address) {
  int fd = ::socket(endpoint.domain(),
                    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    std::fprintf(stderr, "socket: %s\n", std::strerror(errno));
    return -1;
  }
  int one = 1;
  if (endpoint.domain() != AF_UNIX)
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const std::string path(endpoint.path());
  for (int attempt = 0;; ++attempt) {
    if (::bind(fd, endpoint.addr(), endpoint.length()) == 0) return fd;
    if (errno != EADDRINUSE || path.empty() || attempt == 3) {
      std::fprintf(stderr, "cannot bind %s: %s\n", address.c_str(),
                   std::strerror(errno));
      break;
    }
    std::optional<uv_stat_t> file = FileAt(path);
    if (!file) continue;  // gone: bind again
    if (!S_ISSOCK(file->st_mode)) {
      std::fprintf(stderr, "%s exists and is not a socket; leaving it alone\n",
                   path.c_str());
      break;
    }
    if (SomeoneListens(path)) {
      std::fprintf(stderr, "a server already listens on %s; leaving it alone\n",
                   path.c_str());
      break;
    }
    Unlink(path);
  }
  ::close(fd);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  auto made = sockparity::MakeLengthPrefixedCodec(
      {.max_frame = sockparity::kContractMaxFrame, .allow_empty = false});
  if (!made.ok()) return 1;
  codec = made->get();
  loop = uv_default_loop();
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigterm, OnSigterm, SIGTERM);
  const std::string address = argv[1];
  std::string path;
  std::optional<uv_stat_t> bound_file;  // to remove at exit only if ours
  uv_pipe_t pipe_server;
  uv_tcp_t tcp_server;
  if (absl::StatusOr<int> fd = sockparity::ParseInheritedFd(address); fd.ok()) {
    single_connection = true;
    Client* c = NewClient(true);
    if (uv_pipe_open(&c->handle.pipe, *fd) != 0) return 1;
    Resume(c);
  } else {
    const std::optional<sockparity::Endpoint> endpoint =
        sockparity::ParseServerAddress(address);
    if (!endpoint) return 2;
    path = std::string(endpoint->path());
    const int bound = Bind(*endpoint, address);
    if (bound < 0) return 1;
    if (!path.empty()) bound_file = FileAt(path);
    listener_is_pipe = endpoint->domain() == AF_UNIX;
    int opened;
    if (listener_is_pipe) {
      uv_pipe_init(loop, &pipe_server, 0);
      opened = uv_pipe_open(&pipe_server, bound);
      listener = reinterpret_cast<uv_stream_t*>(&pipe_server);
    } else {
      uv_tcp_init(loop, &tcp_server);
      opened = uv_tcp_open(&tcp_server, bound);
      listener = reinterpret_cast<uv_stream_t*>(&tcp_server);
    }
    if (opened != 0 || uv_listen(listener, 128, OnConnection) != 0) {
      std::fprintf(stderr, "cannot listen on %s\n", address.c_str());
      return 1;
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  // Only if the file at the path is still ours: another server may have
  // bound the path since (an overlapping restart).
  if (bound_file) {
    std::optional<uv_stat_t> now = FileAt(path);
    if (now && now->st_dev == bound_file->st_dev &&
        now->st_ino == bound_file->st_ino) {
      Unlink(path);
    }
  }
  uv_loop_close(loop);
  return 0;
}
