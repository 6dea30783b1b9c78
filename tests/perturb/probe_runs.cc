// The probe's checks of the library's settings: announcements, the cut
// sequence of a seed, an unknown mode.
#include "probe.h"

namespace sockparity::probe {

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

}  // namespace sockparity::probe
