// The peer contract (docs/SUT_CONTRACT.md) on Boost.Asio: one io_context,
// asynchronous reads and writes, generic::stream_protocol for every address
// form. Framing uses sockparity's codec; the I/O is all Asio's.
//
// Transport notes: Asio treats every form alike here; what differs between
// transports (the peer of an abortive close sees a reset on TCP, an end of
// stream on UNIX sockets) comes from the kernel and shows in the report.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
// clang-format on
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/codec/codecs.h"
#include "sockparity/net/endpoint.h"

namespace asio = boost::asio;
using Protocol = asio::generic::stream_protocol;
using sockparity::Bytes;

namespace {

constexpr size_t kHighWater = 4u << 20;
// How long the acceptor rests when accept runs out of descriptors.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

class Session;
std::set<Session*> sessions;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Protocol::socket socket, const sockparity::Codec& codec)
      : socket_(std::move(socket)),
        codec_(codec),
        decoder_(codec.NewDecoder()) {
    sessions.insert(this);
  }
  ~Session() { sessions.erase(this); }

  void Start() { Read(); }
  void Close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void Read() {
    if (reading_ || done_reading_ || queued_ >= kHighWater) return;
    reading_ = true;
    socket_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this()](boost::system::error_code error, size_t n) {
          self->reading_ = false;
          self->OnRead(error, n);
        });
  }

  void OnRead(boost::system::error_code error, size_t n) {
    if (error == asio::error::eof) {
      done_reading_ = true;
      close_after_flush_ = true;
      MaybeFinish();
      return;
    }
    if (error) {
      Close();  // reset or closed: drop this connection, serve the others
      return;
    }
    if (!discarding_) {
      std::vector<Bytes> frames;
      absl::Status status =
          decoder_->Feed(absl::MakeConstSpan(buffer_.data(), n), frames);
      for (const Bytes& frame : frames) {
        if (!Handle(frame)) return;
      }
      if (!status.ok()) return ProtocolError();
    }
    Read();
  }

  bool Handle(const Bytes& frame) {
    switch (frame[0]) {
      case 'E':
        Reply(frame);
        return true;
      case 'B': {
        std::optional<uint32_t> n = sockparity::ParseBulkRequest(frame);
        if (!n) return ProtocolError(), false;
        Reply(sockparity::BulkReply(*n));
        return true;
      }
      case 'N': {
        if (frame.size() != 1) return ProtocolError(), false;
        const std::string count = absl::StrCat("N", sessions.size());
        Reply(Bytes(count.begin(), count.end()));
        return true;
      }
      case 'S':
        shut_after_flush_ = true;
        discarding_ = true;
        MaybeFinish();
        Read();
        return false;
      case 'C':
        done_reading_ = true;
        close_after_flush_ = true;
        MaybeFinish();
        return false;
      case 'A': {
        boost::system::error_code ignored;
        socket_.set_option(asio::socket_base::linger(true, 0), ignored);
        Close();
        done_reading_ = true;
        return false;
      }
      default:
        ProtocolError();
        return false;
    }
  }

  void ProtocolError() {
    done_reading_ = true;
    close_after_flush_ = true;
    MaybeFinish();
  }

  void Reply(const Bytes& payload) {
    Bytes frame;
    (void)codec_.Encode(payload, frame);
    queued_ += frame.size();
    out_.push_back(std::move(frame));
    Write();
  }

  void Write() {
    if (writing_ || out_.empty()) return;
    writing_ = true;
    asio::async_write(
        socket_, asio::buffer(out_.front()),
        [self = shared_from_this()](boost::system::error_code error, size_t) {
          self->writing_ = false;
          if (error) return self->Close();
          self->queued_ -= self->out_.front().size();
          self->out_.pop_front();
          self->Write();
          self->MaybeFinish();
          self->Read();
        });
  }

  // Once every queued reply is out: shut down (S) or close (C, end of
  // stream, bad input).
  void MaybeFinish() {
    if (writing_ || !out_.empty()) return;
    boost::system::error_code ignored;
    if (shut_after_flush_ && !shut_done_) {
      socket_.shutdown(asio::socket_base::shutdown_send, ignored);
      shut_done_ = true;
    }
    if (close_after_flush_) Close();
  }

  Protocol::socket socket_;
  const sockparity::Codec& codec_;
  std::unique_ptr<sockparity::FrameDecoder> decoder_;
  std::array<uint8_t, 64 * 1024> buffer_;
  std::deque<Bytes> out_;
  size_t queued_ = 0;
  bool reading_ = false, writing_ = false, done_reading_ = false,
       discarding_ = false;
  bool shut_after_flush_ = false, shut_done_ = false,
       close_after_flush_ = false;
};

bool OutOfResources(const boost::system::error_code& error) {
  return error == asio::error::no_descriptors ||  // EMFILE
         error == boost::system::errc::too_many_files_open_in_system ||
         error == asio::error::no_buffer_space ||
         error == asio::error::no_memory;
}

void Accept(asio::basic_socket_acceptor<Protocol>& acceptor,
            asio::steady_timer& backoff, const sockparity::Codec& codec) {
  acceptor.async_accept(
      [&acceptor, &backoff, &codec](boost::system::error_code error,
                                    Protocol::socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (OutOfResources(error)) {
          // Accepting again at once would fail at once: a busy loop. The
          // connection stays queued; the open ones are served meanwhile.
          backoff.expires_after(kAcceptBackoff);
          backoff.async_wait(
              [&acceptor, &backoff, &codec](boost::system::error_code waited) {
                if (!waited) Accept(acceptor, backoff, codec);
              });
          return;
        }
        if (!error)
          std::make_shared<Session>(std::move(socket), codec)->Start();
        Accept(acceptor, backoff, codec);
      });
}

// Whether a server accepts connections at `where`. Only a refused
// connection proves a socket file stale; anything else counts as live.
// Asynchronous, so a live server with a full backlog cannot block us.
bool SomeoneListens(const Protocol::endpoint& where) {
  asio::io_context io;
  Protocol::socket probe(io, where.protocol());
  boost::system::error_code result;
  probe.async_connect(where,
                      [&](boost::system::error_code error) { result = error; });
  io.run();
  return result != asio::error::connection_refused &&
         result != boost::system::errc::no_such_file_or_directory;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return 2;
  }
  auto codec = sockparity::MakeLengthPrefixedCodec(
      {.max_frame = sockparity::kContractMaxFrame, .allow_empty = false});
  if (!codec.ok()) return 1;
  asio::io_context io;
  asio::signal_set signals(io, SIGTERM);
  ::signal(SIGPIPE, SIG_IGN);
  const std::string address = argv[1];
  std::optional<asio::basic_socket_acceptor<Protocol>> acceptor;
  asio::steady_timer accept_backoff(io);
  std::string path;
  struct stat bound {};  // the socket file we bound, to remove only if ours
  if (absl::StatusOr<int> fd = sockparity::ParseInheritedFd(address); fd.ok()) {
    Protocol::socket socket(io, Protocol(AF_UNIX, 0), *fd);
    std::make_shared<Session>(std::move(socket), **codec)->Start();
  } else {
    const std::optional<sockparity::Endpoint> endpoint =
        sockparity::ParseServerAddress(address);
    if (!endpoint) return 2;
    path = std::string(endpoint->path());
    const Protocol protocol(endpoint->domain(),
                            endpoint->domain() == AF_UNIX ? 0 : IPPROTO_TCP);
    const Protocol::endpoint where(endpoint->addr(), endpoint->length(),
                                   protocol.protocol());
    acceptor.emplace(io);
    acceptor->open(protocol);
    if (endpoint->domain() != AF_UNIX)
      acceptor->set_option(asio::socket_base::reuse_address(true));
    boost::system::error_code error;
    for (int attempt = 0; attempt < 3; ++attempt) {
      acceptor->bind(where, error);
      if (error != asio::error::address_in_use || path.empty()) break;
      // A stale socket file (its server died) is replaced; a live one, or
      // a file that is not a socket, belongs to someone else and stays.
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0) continue;  // gone: bind again
      if (!S_ISSOCK(st.st_mode)) {
        std::fprintf(stderr,
                     "%s exists and is not a socket; leaving it alone\n",
                     path.c_str());
        return 1;
      }
      if (SomeoneListens(where)) {
        std::fprintf(stderr,
                     "a server already listens on %s; leaving it alone\n",
                     path.c_str());
        return 1;
      }
      ::unlink(path.c_str());
    }
    if (error) {
      std::fprintf(stderr, "cannot bind %s: %s\n", address.c_str(),
                   error.message().c_str());
      return 1;
    }
    if (!path.empty() && ::stat(path.c_str(), &bound) != 0) path.clear();
    acceptor->listen(128);
    // By default Asio swallows accept's ECONNABORTED and waits for the
    // listener's next readiness event; its reactor is edge-triggered, so a
    // connection queued behind the aborted one gets no new event and waits
    // until some other client connects (found by `check --perturb
    // accept-aborted`). With the option the handler sees the error and
    // accepts again at once.
    acceptor->set_option(asio::socket_base::enable_connection_aborted(true));
    Accept(*acceptor, accept_backoff, **codec);
  }
  signals.async_wait([&](boost::system::error_code, int) {
    if (acceptor) acceptor->close();
    for (Session* session : std::set<Session*>(sessions)) session->Close();
    io.stop();
  });
  std::printf("ready\n");
  std::fflush(stdout);
  // fd:N: the run ends with its connection (the signal wait would keep
  // io busy forever). The timer and its handler live as long as io runs.
  asio::steady_timer watch(io);
  std::function<void()> check = [&] {
    if (sessions.empty()) return io.stop();
    watch.expires_after(std::chrono::milliseconds(20));
    watch.async_wait([&](boost::system::error_code error) {
      if (!error) check();
    });
  };
  if (!acceptor) check();
  io.run();
  // Only if the file at the path is still ours: another server may have
  // bound the path since (an overlapping restart).
  struct stat st;
  if (!path.empty() && ::stat(path.c_str(), &st) == 0 &&
      st.st_dev == bound.st_dev && st.st_ino == bound.st_ino) {
    ::unlink(path.c_str());
  }
  return 0;
}
