// Checks libsockparity_perturb.so from the inside: run with LD_PRELOAD set
// to it and SOCKPARITY_PERTURB to the modes a check needs (see
// CMakeLists.txt), or, for the checks that compare runs, as a driver that
// runs itself under the library. Prints what it saw; exits 1 when a check
// fails.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  if (!ok) ++failures;
}

void Die(const char* what) {
  std::perror(what);
  std::exit(2);
}

struct Pair {
  int a = -1, b = -1;
  Pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      Die("socketpair");
    a = fds[0];
    b = fds[1];
  }
  ~Pair() {
    ::close(a);
    ::close(b);
  }
};

uint8_t PatternByte(size_t i) { return static_cast<uint8_t>(i * 131 % 251); }

// short-io: a 64 KiB send is sometimes cut short; a loop still delivers
// every byte intact, and a loop-less writer loses data.
int ShortIo() {
  constexpr size_t kSize = 64 << 10;
  std::vector<uint8_t> data(kSize), got(kSize);
  for (size_t i = 0; i < kSize; ++i) data[i] = PatternByte(i);
  int short_sends = 0, short_recvs = 0, lost = 0;
  for (int round = 0; round < 32; ++round) {
    Pair pair;
    // The socketpair's buffer holds 64 KiB: no reader thread needed.
    int bufsize = 1 << 20;
    ::setsockopt(pair.a, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
    size_t sent = 0;
    bool first = true;
    while (sent < kSize) {
      ssize_t n = ::send(pair.a, data.data() + sent, kSize - sent, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) Die("send");
      if (first && static_cast<size_t>(n) < kSize) ++short_sends;
      first = false;
      sent += n;
    }
    ::shutdown(pair.a, SHUT_WR);
    size_t received = 0;
    while (true) {
      ssize_t n = ::recv(pair.b, got.data() + received, kSize - received, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) Die("recv");
      if (n == 0) break;
      // Everything was queued before the first recv.
      if (static_cast<size_t>(n) < kSize - received) ++short_recvs;
      received += n;
      if (received == kSize) {
        char extra;
        while ((n = ::recv(pair.b, &extra, 1, 0)) < 0 && errno == EINTR) {
        }
        if (n != 0) Die("recv: more than was sent, or no end of stream");
        break;
      }
    }
    if (received != kSize || got != data) {
      Check(false, "round " + std::to_string(round) + ": received " +
                       std::to_string(received) + " bytes, not all intact");
      return 1;
    }
    // A writer that trusts one call to write everything.
    Pair naive;
    ::setsockopt(naive.a, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
    ssize_t once = ::write(naive.a, data.data(), kSize);
    if (once >= 0 && static_cast<size_t>(once) < kSize) ++lost;
  }
  Check(short_sends > 0, "of 32 sends of 64 KiB, " +
                             std::to_string(short_sends) +
                             " returned less than asked");
  Check(short_recvs > 0,
        std::to_string(short_recvs) + " recvs returned less than was queued");
  Check(true, "32 rounds: a send loop delivered every byte intact");
  std::printf(
      "demo: a loop-less writer (one write of 64 KiB) lost data in %d of 32 "
      "rounds\n",
      lost);
  Check(lost > 0, "a loop-less writer loses data under short-io");
  // MSG_PEEK is never cut.
  Pair pair;
  for (size_t queued = 0; queued < 4096;) {
    ssize_t n = ::send(pair.a, data.data() + queued, 4096 - queued, 0);
    if (n > 0) queued += n;
  }
  int peeks_cut = 0;
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(pair.b, got.data(), 4096, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0 && n < 4096) ++peeks_cut;
  }
  Check(peeks_cut == 0, "MSG_PEEK is never cut short");
  return failures > 0;
}

// eintr: blocking recv sometimes fails with EINTR; non-blocking never.
int Eintr() {
  Pair pair;
  int interrupted = 0, calls = 0;
  for (int i = 0; i < 200; ++i) {
    char byte = 'x';
    while (::send(pair.a, &byte, 1, MSG_DONTWAIT) != 1) {
    }
    while (true) {
      ++calls;
      ssize_t n = ::recv(pair.b, &byte, 1, 0);
      if (n == 1) break;
      if (n < 0 && errno == EINTR) {
        ++interrupted;
        continue;
      }
      Die("recv");
    }
  }
  Check(interrupted > 0, "blocking recv: " + std::to_string(interrupted) +
                             " EINTR in " + std::to_string(calls) + " calls");
  int nonblocking_eintr = 0;
  for (int i = 0; i < 200; ++i) {
    char byte;
    if (::recv(pair.b, &byte, 1, MSG_DONTWAIT) < 0 && errno == EINTR)
      ++nonblocking_eintr;
  }
  ::fcntl(pair.b, F_SETFL, ::fcntl(pair.b, F_GETFL) | O_NONBLOCK);
  for (int i = 0; i < 200; ++i) {
    char byte;
    if (::read(pair.b, &byte, 1) < 0 && errno == EINTR) ++nonblocking_eintr;
    pollfd entry{pair.b, POLLIN, 0};
    if (::poll(&entry, 1, 0) < 0 && errno == EINTR) ++nonblocking_eintr;
  }
  Check(nonblocking_eintr == 0,
        "MSG_DONTWAIT, O_NONBLOCK and zero-timeout poll: " +
            std::to_string(nonblocking_eintr) + " EINTR in 600 calls");
  int poll_eintr = 0;
  for (int i = 0; i < 200; ++i) {
    pollfd entry{pair.a, POLLOUT, 0};
    if (::poll(&entry, 1, 1000) < 0 && errno == EINTR) ++poll_eintr;
  }
  Check(poll_eintr > 0, "poll with a timeout: " + std::to_string(poll_eintr) +
                            " EINTR in 200 calls");
  return failures > 0;
}

// accept-aborted: accept sometimes fails with ECONNABORTED; retrying gets
// every connection.
int AcceptAborted() {
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path + 1, sizeof(address.sun_path) - 1,
                "sockparity-perturb-probe-%d", ::getpid());
  socklen_t length = sizeof(address);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener, 64) != 0)
    Die("listen");
  int aborted = 0, accepted = 0;
  for (int i = 0; i < 40; ++i) {
    int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&address), length) != 0)
      Die("connect");
    while (true) {
      int fd = i % 2 ? ::accept(listener, nullptr, nullptr)
                     : ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        ++accepted;
        ::close(fd);
        break;
      }
      if (errno == ECONNABORTED) {
        ++aborted;
        continue;
      }
      Die("accept");
    }
    ::close(client);
  }
  ::close(listener);
  Check(aborted > 0, "accept: " + std::to_string(aborted) +
                         " ECONNABORTED before 40 connections");
  Check(accepted == 40, "every connection accepted on retry");
  return failures > 0;
}

// A pipe is never perturbed, even with every mode on.
int PipeUntouched() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) Die("pipe2");
  // The reading end does not block: a wrongly cut write must not hang us.
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  std::vector<uint8_t> buffer(4096);
  int perturbed = 0;
  for (int i = 0; i < 300; ++i) {
    if (::write(fds[1], buffer.data(), buffer.size()) != 4096) ++perturbed;
    if (::read(fds[0], buffer.data(), buffer.size()) != 4096) ++perturbed;
  }
  Check(perturbed == 0, "pipe: " + std::to_string(perturbed) +
                            " of 600 blocking calls short or interrupted");
  // Control: the same on a socket is perturbed.
  Pair pair;
  int socket_perturbed = 0;
  for (int i = 0; i < 300; ++i) {
    ssize_t n = ::write(pair.a, buffer.data(), buffer.size());
    if (n != 4096) ++socket_perturbed;
    if (n > 0) {
      size_t left = n;
      while (left > 0) {
        ssize_t r = ::read(pair.b, buffer.data(), left);
        if (r > 0) left -= r;
      }
    }
  }
  Check(socket_perturbed > 0,
        "socketpair control: " + std::to_string(socket_perturbed) +
            " of 300 writes short or interrupted");
  ::close(fds[0]);
  ::close(fds[1]);
  return failures > 0;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

int CountLines(const std::string& path, const std::string& line) {
  int n = 0;
  for (const std::string& l : ReadLines(path)) n += l == line;
  return n;
}

// The announce file: "loaded PID MODES SEED" from the constructor, "active
// PID" once per process at the first call on a socket, children too.
int Announce() {
  const char* path = std::getenv("SOCKPARITY_PERTURB_ANNOUNCE");
  if (path == nullptr) Die("SOCKPARITY_PERTURB_ANNOUNCE unset");
  const std::string pid = std::to_string(::getpid());
  Check(CountLines(path,
                   "loaded " + pid + " short-io,eintr,accept-aborted 9") == 1,
        "one 'loaded " + pid + " short-io,eintr,accept-aborted 9' line");
  // A pipe is no socket: no "active" yet.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) Die("pipe2");
  char byte = 'x';
  (void)!::write(fds[1], &byte, 1);
  (void)!::read(fds[0], &byte, 1);
  Check(CountLines(path, "active " + pid) == 0,
        "no 'active' line after calls on a pipe only");
  Pair pair;
  for (int i = 0; i < 3; ++i) {
    (void)!::send(pair.a, &byte, 1, MSG_DONTWAIT);
    (void)!::recv(pair.b, &byte, 1, MSG_DONTWAIT);
  }
  Check(CountLines(path, "active " + pid) == 1,
        "one 'active " + pid + "' line after several socket calls");
  pid_t child = ::fork();
  if (child == 0) {
    (void)!::send(pair.a, &byte, 1, MSG_DONTWAIT);
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
  const std::string child_pid = std::to_string(child);
  Check(CountLines(path, "active " + child_pid) == 1,
        "one 'active " + child_pid + "' line from a forked child");
  ::close(fds[0]);
  ::close(fds[1]);
  // Next run starts from an empty file.
  ::unlink(path);
  return failures > 0;
}

// Prints the lengths a series of sends of 1000 bytes returned.
int Cuts() {
  Pair pair;
  std::vector<uint8_t> buffer(1000);
  std::string out;
  for (int i = 0; i < 50; ++i) {
    ssize_t n = ::send(pair.a, buffer.data(), buffer.size(), MSG_DONTWAIT);
    out += std::to_string(n) + " ";
    while (n > 0) {
      ssize_t r = ::recv(pair.b, buffer.data(), n, MSG_DONTWAIT);
      if (r <= 0) Die("recv");
      n -= r;
    }
  }
  std::printf("%s\n", out.c_str());
  return 0;
}

// Runs this program with `argument` under the library, with `modes` and
// `seed`; returns its stdout, and its stderr in *err.
std::string RunUnder(const char* self, const char* library, const char* mode,
                     const char* modes, const char* seed, std::string* err) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    Die("pipe2");
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::setenv("LD_PRELOAD", library, 1);
    ::setenv("SOCKPARITY_PERTURB", modes, 1);
    ::setenv("SOCKPARITY_PERTURB_SEED", seed, 1);
    ::unsetenv("SOCKPARITY_PERTURB_ANNOUNCE");
    ::execl("/proc/self/exe", self, mode, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  auto slurp = [](int fd) {
    std::string text;
    char chunk[4096];
    ssize_t n;
    while ((n = ::read(fd, chunk, sizeof(chunk))) != 0) {
      if (n > 0) text.append(chunk, n);
    }
    ::close(fd);
    return text;
  };
  std::string out = slurp(out_pipe[0]);
  *err = slurp(err_pipe[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::printf("child '%s' with '%s' failed: %s\n", mode, modes, err->c_str());
    std::exit(1);
  }
  return out;
}

bool AllFull(const std::string& cuts) {
  std::istringstream in(cuts);
  int n, count = 0;
  while (in >> n) {
    if (n != 1000) return false;
    ++count;
  }
  return count == 50;
}

// Same seed, same cuts; another seed, other cuts.
int Seeds(const char* self, const char* library) {
  std::string err;
  std::string first = RunUnder(self, library, "cuts", "short-io", "42", &err);
  std::string again = RunUnder(self, library, "cuts", "short-io", "42", &err);
  std::string other = RunUnder(self, library, "cuts", "short-io", "43", &err);
  std::printf("seed 42: %sseed 42: %sseed 43: %s", first.c_str(), again.c_str(),
              other.c_str());
  Check(!AllFull(first), "seed 42 cut some sends");
  Check(first == again, "two runs with seed 42 cut the same lengths");
  Check(first != other, "seed 43 cuts other lengths");
  return failures > 0;
}

// An unknown mode: one error line naming it, then nothing perturbed.
int Unknown(const char* self, const char* library) {
  std::string err;
  std::string cuts =
      RunUnder(self, library, "cuts", "short-io,bogus-mode", "1", &err);
  std::printf("stderr: %s", err.c_str());
  Check(err.find("bogus-mode") != std::string::npos &&
            std::count(err.begin(), err.end(), '\n') == 1,
        "one line on stderr names the unknown mode");
  Check(AllFull(cuts), "nothing cut: " + cuts);
  std::string control = RunUnder(self, library, "cuts", "short-io", "1", &err);
  Check(!AllFull(control), "control: without the unknown mode, sends are cut");
  return failures > 0;
}

// short-io under edge-triggered epoll: a cut read leaves data behind that
// no new edge would announce; the library must report it again, as epoll(7)
// lets a program that saw a short read wait for the next event. Also for a
// cut write: the space left must be reported again.
int EdgeTriggered() {
  int cut_reads = 0, reported_again = 0, cut_writes = 0, write_reported = 0;
  for (int round = 0; round < 200; ++round) {
    Pair pair;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) Die("epoll_create1");
    ::fcntl(pair.b, F_SETFL, O_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLET;
    event.data.u64 = 0xfeed;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, pair.b, &event) != 0) Die("epoll_ctl");
    epoll_event got[4];
    // The first edge: writable.
    if (::epoll_wait(ep, got, 4, 1000) != 1) Die("epoll_wait (first)");
    const char data[100] = {};
    // Raw write: the sender's own cut is not what is checked here.
    if (::syscall(SYS_write, pair.a, data, sizeof(data)) != sizeof(data))
      Die("write");
    if (::epoll_wait(ep, got, 4, 1000) != 1 || !(got[0].events & EPOLLIN))
      Die("epoll_wait (readable)");
    char buffer[100];
    const ssize_t n = ::recv(pair.b, buffer, sizeof(buffer), 0);
    if (n > 0 && n < 100) {
      ++cut_reads;
      // Data is left and nothing new arrived: only a re-arm reports it.
      if (::epoll_wait(ep, got, 4, 0) == 1 && (got[0].events & EPOLLIN) &&
          got[0].data.u64 == 0xfeed)
        ++reported_again;
    }
    const ssize_t w = ::send(pair.b, data, sizeof(data), MSG_NOSIGNAL);
    if (w > 0 && w < 100) {
      ++cut_writes;
      if (::epoll_wait(ep, got, 4, 0) == 1 && (got[0].events & EPOLLOUT))
        ++write_reported;
    }
    ::close(ep);
  }
  Check(cut_reads > 0, std::to_string(cut_reads) + " of 200 reads cut");
  Check(reported_again == cut_reads,
        "after each cut read the data left was reported again (" +
            std::to_string(reported_again) + " of " +
            std::to_string(cut_reads) + ")");
  Check(cut_writes > 0 && write_reported == cut_writes,
        "after each cut write the space left was reported again (" +
            std::to_string(write_reported) + " of " +
            std::to_string(cut_writes) + ")");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "short-io") return ShortIo();
  if (mode == "eintr") return Eintr();
  if (mode == "accept-aborted") return AcceptAborted();
  if (mode == "pipe") return PipeUntouched();
  if (mode == "announce") return Announce();
  if (mode == "cuts") return Cuts();
  if (mode == "edge-triggered") return EdgeTriggered();
  if (mode == "seeds" && argc > 2) return Seeds(argv[0], argv[2]);
  if (mode == "unknown" && argc > 2) return Unknown(argv[0], argv[2]);
  std::fprintf(stderr,
               "usage: perturb_probe short-io|eintr|accept-aborted|pipe|"
               "announce|cuts (under the library)\n"
               "       perturb_probe seeds|unknown LIBRARY\n");
  return 2;
}
