// The peer contract (docs/SUT_CONTRACT.md, v1.1) on Qt 6 (QtCore + QtNetwork,
// built against Debian 12's qt6-base-dev, Qt 6.4). One thread, Qt's event loop
// (QCoreApplication::exec), signals connected to lambdas (no moc needed):
//   unix:/path  QLocalServer::listen(full path)
//   unix:@name  QLocalServer with QLocalServer::AbstractNamespaceOption (6.2+)
//   tcp:...     QTcpServer::listen(QHostAddress, port), 127.0.0.1 and ::1
//   fd:N        QLocalSocket::setSocketDescriptor (one connection, exit at end)
// Each connection is a QLocalSocket or QTcpSocket used as a QIODevice:
// readyRead drives the frame decoder, bytesWritten resumes it, each batch
// of replies is flushed (Serve()). Backpressure is Qt's documented one:
// setReadBufferSize() bounds what Qt reads ahead, and the decoder stops
// while bytesToWrite() is over 1 MiB, so Qt stops reading the socket.
//
// What Qt does not offer, and what this adapter does about it:
//  - No half-close: QAbstractSocket/QLocalSocket have no shutdown(SHUT_WR).
//    S uses ::shutdown on socketDescriptor() (WORKAROUND, see Shut()). And
//    Qt treats the peer's half-close as a full close: on read() == 0 its
//    socket engine closes the descriptor at once (QNativeSocketEngine::read,
//    RemoteHostClosedError), dropping replies still in its write buffer and
//    requests still in its read buffer. Not worked around: it is the
//    library's behaviour (cases 5.x show it).
//  - No SO_LINGER option in QAbstractSocket::SocketOption: A sets it on
//    socketDescriptor() before abort() (WORKAROUND, see Abort()).
//  - QLocalServer::listen fails with AddressInUseError on any existing file.
//    Qt's answer is QLocalServer::removeServer(), documented to remove the
//    file unconditionally ("Be careful to avoid removing sockets of running
//    instances"), so, as a careful Qt user does, a QLocalSocket probe decides
//    first: a refused connection means stale (removeServer, listen again),
//    a server that answers means live (refuse to start, file left alone).
//  - QLocalServer::close() (and its destructor) QFile::remove()s the path
//    unconditionally: a socket another server has bound there since is
//    removed too (SHOULD 10.4). Qt gives no way around it; left as is.
//  - QLocalServer on accept() failure (EMFILE, ECONNABORTED, EINTR: its
//    listening socket is even a blocking one) calls closeServer(): it stops
//    listening and removes its socket file, with no signal to the user
//    (qlocalserver_unix.cpp, _q_onNewConnection). Left as is.
//  - QTcpServer is documented to pause and emit acceptError() when accept
//    fails; this adapter resumes at once, or after 100 ms on a resource
//    error (EMFILE/ENFILE), as pauseAccepting/resumeAccepting suggest. In
//    Qt 6.4 the signal never comes after the first EAGAIN: the socket engine
//    keeps only its first error (QNativeSocketEnginePrivate::setError,
//    hasSetSocketError), so a later EMFILE still reads as TemporaryError and
//    the listener is polled and accepted in a busy loop (case 12.1).
//  - Qt 6.4 reserves two bytes besides the name in sun_path on Linux, also
//    for paths, so a 107-byte path is refused (qlocalserver_unix.cpp).
// SIGTERM: Qt's documented recipe ("Calling Qt Functions From Unix Signal
// Handlers"): the handler writes to a socketpair, a QSocketNotifier on the
// other end quits the event loop.
#include <QByteArray>
#include <QCoreApplication>
#include <QFileInfo>
#include <QHostAddress>
#include <QLocalServer>
#include <QLocalSocket>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>

namespace {

constexpr qint64 kHighWater = 1 << 20;         // pause reading above this
constexpr qint64 kReadAhead = 64 * 1024;       // Qt's read buffer bound
constexpr quint32 kMaxFrame = 16u << 20;       // 16 MiB
constexpr int kBacklog = 128;

class Connection;
std::set<Connection*> connections;
bool single_connection = false;  // fd:N: quit when it ends

QByteArray BigEndian(quint32 n) {
  QByteArray out(4, '\0');
  out[0] = char(n >> 24);
  out[1] = char(n >> 16);
  out[2] = char(n >> 8);
  out[3] = char(n);
  return out;
}

class Connection : public QObject {
 public:
  explicit Connection(QLocalSocket* socket) : device_(socket), local_(socket) {
    local_->setReadBufferSize(kReadAhead);
    connect(local_, &QLocalSocket::disconnected, this, &Connection::Gone);
    Start();
  }
  explicit Connection(QTcpSocket* socket) : device_(socket), tcp_(socket) {
    tcp_->setReadBufferSize(kReadAhead);
    connect(tcp_, &QAbstractSocket::disconnected, this, &Connection::Gone);
    Start();
  }

  void Abort() {
    finished_ = true;
    if (local_) local_->abort();
    if (tcp_) tcp_->abort();
    Gone();
  }

 private:
  void Start() {
    connections.insert(this);
    device_->setParent(this);
    connect(device_, &QIODevice::readyRead, this, &Connection::Serve);
    connect(device_, &QIODevice::bytesWritten, this, [this] {
      MaybeShut();
      Serve();
    });
    Serve();  // bytes may already be buffered
  }

  // Answers what Qt has buffered, then flush()es ("to start sending buffered
  // data immediately"), lest Qt read the end of stream first and drop it.
  void Serve() {
    while (true) {
      ServeFrames();
      if (gone_) return;
      if (local_) local_->flush();
      if (tcp_) tcp_->flush();
      // Inside bytesWritten a flush emits no second one: come back now.
      MaybeShut();
      if (gone_ || finished_ || discarding_ ||
          device_->bytesToWrite() >= kHighWater ||
          device_->bytesAvailable() == 0) {
        return;
      }
    }
  }

  // Decodes and answers the frames Qt has buffered, as long as the queued
  // output stays under the bound.
  void ServeFrames() {
    while (!gone_ && !finished_) {
      if (discarding_) {  // after S: read and drop until end of stream
        device_->skip(device_->bytesAvailable());
        return;
      }
      if (device_->bytesToWrite() >= kHighWater) return;  // resumes on bytesWritten
      if (header_have_ < 4) {
        const qint64 n = device_->read(header_ + header_have_, 4 - header_have_);
        if (n <= 0) return;
        header_have_ += int(n);
        if (header_have_ < 4) continue;
        const quint32 length = quint32(quint8(header_[0])) << 24 |
                               quint32(quint8(header_[1])) << 16 |
                               quint32(quint8(header_[2])) << 8 |
                               quint32(quint8(header_[3]));
        if (length == 0 || length > kMaxFrame) return ProtocolError();
        body_.resize(qsizetype(length));
        body_have_ = 0;
        continue;
      }
      const qint64 n =
          device_->read(body_.data() + body_have_, body_.size() - body_have_);
      if (n <= 0) return;
      body_have_ += n;
      if (body_have_ < body_.size()) continue;
      header_have_ = 0;
      Handle(std::exchange(body_, QByteArray()));
    }
  }

  void Handle(const QByteArray& frame) {
    switch (frame[0]) {
      case 'E':
        return Reply(frame);
      case 'B': {
        if (frame.size() != 5) return ProtocolError();
        const quint32 n = quint32(quint8(frame[1])) << 24 |
                          quint32(quint8(frame[2])) << 16 |
                          quint32(quint8(frame[3])) << 8 | quint32(quint8(frame[4]));
        if (n > kMaxFrame - 1) return ProtocolError();
        QByteArray reply(qsizetype(n) + 1, Qt::Uninitialized);
        char* out = reply.data();
        out[0] = 'B';
        for (quint32 i = 0; i < n; ++i) out[i + 1] = char(i % 251);
        return Reply(reply);
      }
      case 'N':
        if (frame.size() != 1) return ProtocolError();
        return Reply("N" + QByteArray::number(qulonglong(connections.size())));
      case 'S':
        discarding_ = true;
        shut_after_flush_ = true;
        return MaybeShut();
      case 'C':
        finished_ = true;
        return Disconnect();
      case 'A':
        return AbortWithReset();
      default:
        return ProtocolError();
    }
  }

  void Reply(const QByteArray& payload) {
    device_->write(BigEndian(quint32(payload.size())));
    device_->write(payload);
  }

  // C, a protocol error: Qt's graceful close writes what is queued, then
  // closes (ClosingState until the write buffer is empty).
  void Disconnect() {
    if (local_) local_->disconnectFromServer();
    if (tcp_) tcp_->disconnectFromHost();
  }

  void ProtocolError() {
    finished_ = true;
    Disconnect();
  }

  // WORKAROUND: Qt has no half-close (no QAbstractSocket::shutdown); once
  // Qt's write buffer is empty, shut down the descriptor's sending side.
  void MaybeShut() {
    if (!shut_after_flush_ || shut_done_ || gone_) return;
    if (device_->bytesToWrite() > 0) return;  // again on bytesWritten
    shut_done_ = true;
    const qintptr fd = local_ ? local_->socketDescriptor() : tcp_->socketDescriptor();
    if (fd >= 0) ::shutdown(int(fd), SHUT_WR);
  }

  // WORKAROUND: QAbstractSocket::SocketOption has no SO_LINGER; set
  // {1, 0} on the descriptor so abort()'s close sends a reset on TCP.
  void AbortWithReset() {
    const qintptr fd = local_ ? local_->socketDescriptor() : tcp_->socketDescriptor();
    if (fd >= 0) {
      linger reset{1, 0};
      ::setsockopt(int(fd), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    }
    Abort();
  }

  void Gone() {
    if (gone_) return;
    gone_ = true;
    connections.erase(this);
    deleteLater();
    if (single_connection && connections.empty()) QCoreApplication::quit();
  }

  QIODevice* device_;
  QLocalSocket* local_ = nullptr;
  QTcpSocket* tcp_ = nullptr;
  char header_[4];
  int header_have_ = 0;
  QByteArray body_;
  qint64 body_have_ = 0;
  bool gone_ = false, finished_ = false, discarding_ = false;
  bool shut_after_flush_ = false, shut_done_ = false;
};

// Qt's recipe for Unix signals: the handler only writes a byte.
int signal_pipe[2] = {-1, -1};

void OnSigterm(int) {
  const int saved = errno;
  const char byte = 1;
  while (::write(signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  errno = saved;
}

// Whether a server answers on the socket file at `path`. Only a refused
// connection (or no file) proves the path stale.
bool SomeoneListens(const QString& path) {
  QLocalSocket probe;
  probe.connectToServer(path);
  if (probe.waitForConnected(1000)) return true;
  const auto error = probe.error();
  return error != QLocalSocket::ConnectionRefusedError &&
         error != QLocalSocket::ServerNotFoundError;
}

int Fail(const QString& what) {
  std::fprintf(stderr, "%s\n", qPrintable(what));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return 2;
  }
  const QString address = QString::fromLocal8Bit(argv[1]);

  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, signal_pipe) != 0)
    return Fail("socketpair failed");
  QSocketNotifier sigterm(signal_pipe[1], QSocketNotifier::Read);
  QObject::connect(&sigterm, &QSocketNotifier::activated, &app, [&] {
    sigterm.setEnabled(false);
    char byte;
    [[maybe_unused]] ssize_t ignored = ::read(signal_pipe[1], &byte, 1);
    QCoreApplication::quit();
  });
  struct sigaction action {};
  action.sa_handler = OnSigterm;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &action, nullptr);

  std::unique_ptr<QLocalServer> local_server;
  std::unique_ptr<QTcpServer> tcp_server;

  if (address.startsWith("fd:")) {
    bool ok = false;
    const int fd = address.mid(3).toInt(&ok);
    if (!ok || fd < 0) return Fail("bad descriptor: " + address);
    single_connection = true;
    auto* socket = new QLocalSocket;
    if (!socket->setSocketDescriptor(fd, QLocalSocket::ConnectedState,
                                     QIODevice::ReadWrite))
      return Fail("cannot adopt descriptor: " + socket->errorString());
    new Connection(socket);
  } else if (address.startsWith("unix:")) {
    QString name = address.mid(5);
    local_server = std::make_unique<QLocalServer>();
    local_server->setListenBacklogSize(kBacklog);
    const bool abstract = name.startsWith('@');
    if (abstract) {
      // Qt 6.2+: binds "\0" + name with the length covering the name only.
      name = name.mid(1);
      local_server->setSocketOptions(QLocalServer::AbstractNamespaceOption);
    }
    if (!local_server->listen(name)) {
      if (abstract || local_server->serverError() != QAbstractSocket::AddressInUseError)
        return Fail("cannot listen on " + address + ": " + local_server->errorString());
      // Something is at the path. Qt would remove anything there
      // (removeServer); only a socket nobody answers on is removed here.
      const QFileInfo file(name);
      if (file.isFile() || file.isDir())
        return Fail(name + " exists and is not a socket; leaving it alone");
      if (SomeoneListens(name))
        return Fail("a server already listens on " + name + "; leaving it alone");
      QLocalServer::removeServer(name);
      if (!local_server->listen(name))
        return Fail("cannot listen on " + address + ": " + local_server->errorString());
    }
    QObject::connect(local_server.get(), &QLocalServer::newConnection, [&] {
      while (QLocalSocket* socket = local_server->nextPendingConnection())
        new Connection(socket);
    });
  } else if (address.startsWith("tcp:")) {
    const QString rest = address.mid(4);
    const int colon = rest.lastIndexOf(':');
    QString host = rest.left(colon);
    if (host.startsWith('[') && host.endsWith(']')) host = host.mid(1, host.size() - 2);
    bool ok = false;
    const quint16 port = rest.mid(colon + 1).toUShort(&ok);
    QHostAddress where;
    if (colon < 0 || !ok || !where.setAddress(host))
      return Fail("bad address: " + address);
    tcp_server = std::make_unique<QTcpServer>();
    tcp_server->setListenBacklogSize(kBacklog);
    if (!tcp_server->listen(where, port))
      return Fail("cannot listen on " + address + ": " + tcp_server->errorString());
    QObject::connect(tcp_server.get(), &QTcpServer::newConnection, [&] {
      while (QTcpSocket* socket = tcp_server->nextPendingConnection())
        new Connection(socket);
    });
    // QTcpServer pauses accepting on an accept error and says so here.
    QObject::connect(tcp_server.get(), &QTcpServer::acceptError,
                     [&](QAbstractSocket::SocketError error) {
                       if (error == QAbstractSocket::SocketResourceError) {
                         QTimer::singleShot(100, tcp_server.get(),
                                            [&] { tcp_server->resumeAccepting(); });
                       } else {
                         tcp_server->resumeAccepting();
                       }
                     });
  } else {
    return Fail("unknown address form: " + address);
  }

  std::printf("ready\n");
  std::fflush(stdout);
  app.exec();

  // SIGTERM (or the fd:N connection ended): stop accepting, close the rest.
  if (tcp_server) tcp_server->close();
  if (local_server) local_server->close();  // Qt removes the socket file here
  for (Connection* c : std::set<Connection*>(connections)) c->Abort();
  return 0;
}
