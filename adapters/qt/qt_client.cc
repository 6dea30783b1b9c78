// The client contract (docs/CLIENT_CONTRACT.md) on Qt 6 (QtCore +
// QtNetwork, built against Debian 12's qt6-base-dev, Qt 6.4). One thread,
// Qt's event loop, signals connected to lambdas (no moc needed):
//   unix:/path  QLocalSocket::connectToServer(full path)
//   unix:@name  the same with QLocalSocket::AbstractNamespaceOption (6.2+),
//               which connects to "\0" + name, the length covering the name
//   tcp:...     QTcpSocket::connectToHost(QHostAddress, port)
//   fd:N        QLocalSocket::setSocketDescriptor (already connected)
// The socket is used as a QIODevice: `connected` writes the requests (Qt
// buffers them and writes as the socket allows), readyRead decodes the
// replies, `disconnected` is the end of stream, errorOccurred the failures.
//
// Qt's errors are enums without the errno: ConnectionRefusedError is
// `end refused`, ServerNotFoundError (QLocalSocket, ENOENT in
// qlocalsocket_unix.cpp) ENOENT, SocketAccessError EACCES,
// SocketTimeoutError ETIMEDOUT, anything else EOTHER. RemoteHostClosedError
// (PeerClosedError) is how Qt says the peer closed: the end of stream,
// reported once the buffered bytes are decoded.
// SIGPIPE is left alone: Qt sends with MSG_NOSIGNAL itself. SIGTERM: Qt's
// recipe ("Calling Qt Functions From Unix Signal Handlers"), the handler
// writing a byte that a QSocketNotifier reads, on a pipe rather than the
// recipe's socketpair, so that the client holds no connected socket after
// its end.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <QByteArray>
#include <QCoreApplication>
#include <QFile>
#include <QHostAddress>
#include <QLocalSocket>
#include <QSocketNotifier>
#include <QTcpSocket>
#include <cerrno>
#include <cstdio>

namespace {

QIODevice* device = nullptr;
QLocalSocket* local = nullptr;
QTcpSocket* tcp = nullptr;
QByteArray requests;
unsigned char head[4];  // the current reply's header as it arrives
int head_got = 0;
quint32 length = 0, left = 0, hash = 0;
bool ended = false;

void Say(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
}

// Reply frames, however split: one is printed once all of it is here.
void Feed(const unsigned char* p, qint64 n) {
  qint64 i = 0;
  while (i < n) {
    if (head_got < 4) {
      head[head_got++] = p[i++];
      if (head_got < 4) continue;
      length = left = quint32(head[0]) << 24 | quint32(head[1]) << 16 |
                      quint32(head[2]) << 8 | quint32(head[3]);
      hash = 2166136261u;
    }
    for (; left > 0 && i < n; left--) hash = (hash ^ p[i++]) * 16777619u;
    if (left == 0) {
      std::printf("reply %u %08x\n", length, hash);
      std::fflush(stdout);
      head_got = 0;
    }
  }
}

void Read() {
  unsigned char chunk[64 * 1024];
  qint64 n;
  while (!ended &&
         (n = device->read(reinterpret_cast<char*>(chunk), sizeof chunk)) > 0) {
    Feed(chunk, n);
  }
}

// The one `end` line; the socket is closed, the event loop idles.
void Finish(const char* line) {
  if (ended) return;
  ended = true;
  Say(line);
  if (local) local->abort();
  if (tcp) tcp->abort();
}

void EndOfStream() {
  Read();  // what Qt still holds after the peer's close
  Finish(head_got > 0 ? "end eof partial" : "end eof");
}

void OnConnected() {
  Say("connected");
  device->write(requests);
}

void OnError(QAbstractSocket::SocketError error) {
  switch (error) {
    case QAbstractSocket::RemoteHostClosedError:
      return EndOfStream();
    case QAbstractSocket::ConnectionRefusedError:
      return Finish("end refused");
    case QAbstractSocket::HostNotFoundError:  // QLocalSocket: ENOENT
      return Finish(local ? "end error ENOENT" : "end error EOTHER");
    case QAbstractSocket::SocketAccessError:
      return Finish("end error EACCES");
    case QAbstractSocket::SocketTimeoutError:
      return Finish("end error ETIMEDOUT");
    default:
      std::fprintf(stderr, "%s\n", qPrintable(device->errorString()));
      return Finish("end error EOTHER");
  }
}

int signal_pipe[2] = {-1, -1};

void OnSigterm(int) {
  const int saved = errno;
  const char byte = 1;
  while (::write(signal_pipe[1], &byte, 1) < 0 && errno == EINTR) {
  }
  errno = saved;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS < REQUESTS\n", argv[0]);
    return 2;
  }
  const QString address = QString::fromLocal8Bit(argv[1]);
  QFile in;
  if (!in.open(stdin, QIODevice::ReadOnly)) return 1;
  requests = in.readAll();

  if (::pipe2(signal_pipe, O_CLOEXEC) != 0) return 1;
  QSocketNotifier sigterm(signal_pipe[0], QSocketNotifier::Read);
  QObject::connect(&sigterm, &QSocketNotifier::activated, &app,
                   [] { QCoreApplication::quit(); });
  struct sigaction action {};
  action.sa_handler = OnSigterm;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &action, nullptr);

  if (address.startsWith("fd:") || address.startsWith("unix:")) {
    device = local = new QLocalSocket(&app);
    QObject::connect(local, &QLocalSocket::connected, OnConnected);
    QObject::connect(local, &QLocalSocket::readyRead, Read);
    QObject::connect(local, &QLocalSocket::disconnected, EndOfStream);
    QObject::connect(local, &QLocalSocket::errorOccurred,
                     [](QLocalSocket::LocalSocketError error) {
                       // The same values as QAbstractSocket::SocketError.
                       OnError(QAbstractSocket::SocketError(error));
                     });
  }
  if (address.startsWith("fd:")) {
    bool ok = false;
    const int fd = address.mid(3).toInt(&ok);
    if (!ok || fd < 0) {
      std::fprintf(stderr, "%s: expected fd:N\n", argv[1]);
      return 2;
    }
    if (local->setSocketDescriptor(fd, QLocalSocket::ConnectedState,
                                   QIODevice::ReadWrite)) {
      local->write(requests);
    } else {
      Finish("end error EOTHER");
    }
  } else if (address.startsWith("unix:")) {
    QString name = address.mid(5);
    if (name.startsWith('@')) {
      name = name.mid(1);
      local->setSocketOptions(QLocalSocket::AbstractNamespaceOption);
    }
    local->connectToServer(name);
  } else if (address.startsWith("tcp:")) {
    const QString rest = address.mid(4);
    const int colon = rest.lastIndexOf(':');
    QString host = rest.left(colon);
    if (host.startsWith('[') && host.endsWith(']'))
      host = host.mid(1, host.size() - 2);
    bool ok = false;
    const quint16 port = rest.mid(colon + 1).toUShort(&ok);
    QHostAddress where;
    if (colon < 0 || !ok || !where.setAddress(host)) {
      std::fprintf(stderr, "%s: expected tcp:HOST:PORT\n", argv[1]);
      return 2;
    }
    device = tcp = new QTcpSocket(&app);
    QObject::connect(tcp, &QTcpSocket::connected, OnConnected);
    QObject::connect(tcp, &QTcpSocket::readyRead, Read);
    QObject::connect(tcp, &QTcpSocket::disconnected, EndOfStream);
    QObject::connect(tcp, &QTcpSocket::errorOccurred, OnError);
    tcp->connectToHost(where, port);
  } else {
    std::fprintf(stderr, "%s: expected unix:PATH, tcp:HOST:PORT or fd:N\n",
                 argv[1]);
    return 2;
  }
  app.exec();
  ended = true;  // SIGTERM: the sockets' destructors say nothing more
  return 0;
}
