#include "check/shepherd_spawner.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "sockparity/net/errors.h"

namespace sockparity::internal {
namespace {

// One request, one SOCK_SEQPACKET message: this header, then argv's and
// envp's strings, each NUL-terminated. Descriptors ride along in order:
// output, error, control, status, then inherited and keep if present.
struct Request {
  int32_t fd_number;
  int32_t argc;
  int32_t envc;
  int32_t has_inherited;
  int32_t has_keep;
  int32_t has_input;
};

constexpr int kMaxDescriptors = 7;
// What the spawner can take in one message: static, since it runs in the
// child of a fork of a threaded process, where allocating may deadlock.
constexpr size_t kMaxRequest = 192 << 10;
constexpr int kMaxStrings = 8192;

void Reply(int socket, int32_t value) {
  while (::send(socket, &value, sizeof(value), MSG_NOSIGNAL) < 0 &&
         errno == EINTR) {
  }
}

// Splits `count` NUL-terminated strings off `*text` into `out` (then a
// null); false when they run past `end`.
bool TakeStrings(char** text, const char* end, int count, char** out) {
  for (int i = 0; i < count; ++i) {
    char* start = *text;
    const void* nul =
        std::memchr(start, '\0', static_cast<size_t>(end - start));
    if (nul == nullptr) return false;
    out[i] = start;
    *text = static_cast<char*>(const_cast<void*>(nul)) + 1;
  }
  out[count] = nullptr;
  return true;
}

[[noreturn]] void RunSpawner(int socket) {
  // Its own group, like a shepherd: the terminal's Ctrl-C is the suite's
  // to handle. It ends when the suite closes its end, or ends.
  ::setpgid(0, 0);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE})
    ::signal(signal, SIG_IGN);
  ::signal(SIGCHLD, SIG_IGN);  // shepherds are reaped by the kernel
  int kept[] = {socket};
  CloseDescriptorsExcept(kept, 1);
  static char buffer[kMaxRequest];
  static char* argv[kMaxStrings + 1];
  static char* envp[kMaxStrings + 1];
  alignas(
      struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxDescriptors)];
  while (true) {
    struct iovec part = {buffer, sizeof(buffer)};
    struct msghdr message {};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t got = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) ::_exit(0);
    int fds[kMaxDescriptors];
    int fd_count = 0;
    for (struct cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
         header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
        continue;
      const int n =
          static_cast<int>((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (int i = 0; i < n && fd_count < kMaxDescriptors; ++i) {
        std::memcpy(&fds[fd_count++], CMSG_DATA(header) + i * sizeof(int),
                    sizeof(int));
      }
    }
    Request request;
    bool valid = static_cast<size_t>(got) >= sizeof(request) &&
                 (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0;
    if (valid) {
      std::memcpy(&request, buffer, sizeof(request));
      char* text = buffer + sizeof(request);
      const char* end = buffer + got;
      valid = request.argc > 0 && request.argc <= kMaxStrings &&
              request.envc >= 0 && request.envc <= kMaxStrings &&
              fd_count == 4 + (request.has_inherited != 0) +
                              (request.has_keep != 0) +
                              (request.has_input != 0) &&
              TakeStrings(&text, end, request.argc, argv) &&
              TakeStrings(&text, end, request.envc, envp);
    }
    if (!valid) {
      for (int i = 0; i < fd_count; ++i) ::close(fds[i]);
      Reply(socket, -EINVAL);
      continue;
    }
    ShepherdPlan plan{};
    plan.argv = argv;
    plan.envp = envp;
    plan.output_fd = fds[0];
    plan.error_fd = fds[1];
    plan.control_fd = fds[2];
    plan.status_fd = fds[3];
    int next = 4;
    plan.inherited_fd = request.has_inherited ? fds[next++] : -1;
    plan.fd_number = request.fd_number;
    plan.keep_fd = request.has_keep ? fds[next++] : -1;
    plan.input_fd = request.has_input ? fds[next++] : -1;
    const pid_t shepherd = ::fork();
    if (shepherd == 0) {
      ::signal(SIGCHLD, SIG_DFL);  // the shepherd waits for its server
      RunShepherd(plan);
    }
    const int32_t error = errno;
    for (int i = 0; i < fd_count; ++i) ::close(fds[i]);
    Reply(socket, shepherd > 0 ? shepherd : -error);
  }
}

struct Spawner {
  std::mutex mutex;
  int socket = -1;
  pid_t pid = -1;
  bool failed = false;
};

Spawner& TheSpawner() {
  static Spawner* spawner = new Spawner;
  return *spawner;
}

absl::Status StartLocked(Spawner& spawner) {
  if (spawner.socket >= 0) return absl::OkStatus();
  if (spawner.failed)
    return absl::UnavailableError("the shepherd spawner could not start");
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    spawner.failed = true;
    return ErrnoStatus(errno, "socketpair", "shepherd spawner");
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(ends[0]);
    ::close(ends[1]);
    spawner.failed = true;
    return ErrnoStatus(error, "fork", "shepherd spawner");
  }
  if (pid == 0) RunSpawner(ends[1]);
  ::close(ends[1]);
  spawner.socket = ends[0];
  spawner.pid = pid;
  return absl::OkStatus();
}

// The spawner is gone or confused: shepherds are forked directly from now.
void GiveUpLocked(Spawner& spawner) {
  ::close(spawner.socket);
  spawner.socket = -1;
  if (spawner.pid > 0) {
    ::kill(spawner.pid, SIGKILL);
    while (::waitpid(spawner.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  spawner.pid = -1;
  spawner.failed = true;
}

}  // namespace

absl::Status StartShepherdSpawner() {
  Spawner& spawner = TheSpawner();
  std::lock_guard<std::mutex> lock(spawner.mutex);
  return StartLocked(spawner);
}

pid_t ShepherdSpawnerPid() {
  Spawner& spawner = TheSpawner();
  std::lock_guard<std::mutex> lock(spawner.mutex);
  return spawner.pid;
}

absl::StatusOr<pid_t> SpawnShepherd(const ShepherdPlan& plan) {
  Request request{};
  request.fd_number = plan.fd_number;
  request.has_inherited = plan.inherited_fd >= 0;
  request.has_keep = plan.keep_fd >= 0;
  request.has_input = plan.input_fd >= 0;
  std::string strings;
  for (char* const* arg = plan.argv; *arg != nullptr; ++arg, ++request.argc)
    strings.append(*arg, std::strlen(*arg) + 1);
  for (char* const* var = plan.envp; *var != nullptr; ++var, ++request.envc)
    strings.append(*var, std::strlen(*var) + 1);
  if (sizeof(request) + strings.size() > kMaxRequest ||
      request.argc > kMaxStrings || request.envc > kMaxStrings) {
    return absl::ResourceExhaustedError(
        "the command and environment do not fit one spawner request");
  }
  int fds[kMaxDescriptors] = {plan.output_fd, plan.error_fd, plan.control_fd,
                              plan.status_fd};
  int fd_count = 4;
  if (plan.inherited_fd >= 0) fds[fd_count++] = plan.inherited_fd;
  if (plan.keep_fd >= 0) fds[fd_count++] = plan.keep_fd;
  if (plan.input_fd >= 0) fds[fd_count++] = plan.input_fd;

  struct iovec parts[2] = {{&request, sizeof(request)},
                           {strings.data(), strings.size()}};
  alignas(struct cmsghdr) char
      control[CMSG_SPACE(sizeof(int) * kMaxDescriptors)] = {};
  struct msghdr message {};
  message.msg_iov = parts;
  message.msg_iovlen = 2;
  message.msg_control = control;
  message.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
  std::memcpy(CMSG_DATA(header), fds, sizeof(int) * fd_count);

  Spawner& spawner = TheSpawner();
  std::lock_guard<std::mutex> lock(spawner.mutex);
  if (absl::Status started = StartLocked(spawner); !started.ok())
    return started;
  ssize_t sent;
  do {
    sent = ::sendmsg(spawner.socket, &message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    const int error = errno;
    if (error != EMSGSIZE) GiveUpLocked(spawner);
    return ErrnoStatus(error, "sendmsg", "shepherd spawner");
  }
  // It forks and answers at once; ten seconds is a spawner that hangs.
  struct pollfd watched = {spawner.socket, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&watched, 1, 10000);
  } while (ready < 0 && errno == EINTR);
  int32_t reply = 0;
  ssize_t got = -1;
  if (ready > 0) {
    do {
      got = ::recv(spawner.socket, &reply, sizeof(reply), 0);
    } while (got < 0 && errno == EINTR);
  }
  if (got != sizeof(reply)) {
    GiveUpLocked(spawner);
    return absl::UnavailableError("the shepherd spawner did not answer");
  }
  if (reply < 0) return ErrnoStatus(-reply, "fork", "shepherd spawner");
  return static_cast<pid_t>(reply);
}

}  // namespace sockparity::internal
