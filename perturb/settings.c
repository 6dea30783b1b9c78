// The settings from the environment (SOCKPARITY_PERTURB, _SEED, _ANNOUNCE)
// and the lines written to the announce file. No stdio: it may be called
// from inside the program's own write(), and must not allocate.
#undef _FORTIFY_SOURCE  // as in every file of the library

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "modes.h"
#include "perturb_internal.h"

int modes;
uint64_t seed = 1;
char announce_path[4096];
static char modes_text[64];  // canonical, for the "loaded" line

static void RawWrite(int fd, const char* text, size_t length) {
  // A raw system call: our own write() wrapper must not cut it short.
  while (length > 0) {
    long n = syscall(SYS_write, fd, text, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    length -= (size_t)n;
  }
}

static size_t AppendText(char* out, size_t at, size_t size, const char* s) {
  while (*s != '\0' && at + 1 < size) out[at++] = *s++;
  out[at] = '\0';
  return at;
}

static size_t AppendNumber(char* out, size_t at, size_t size, uint64_t v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0 && at + 1 < size) out[at++] = digits[--n];
  out[at] = '\0';
  return at;
}

// One line, one write(2) with O_APPEND: lines from several processes do not
// interleave.
void Announce(const char* what, bool with_modes) {
  if (announce_path[0] == '\0') return;
  int saved = errno;
  char line[160];
  size_t n = AppendText(line, 0, sizeof(line), what);
  n = AppendText(line, n, sizeof(line), " ");
  n = AppendNumber(line, n, sizeof(line), (uint64_t)getpid());
  if (with_modes) {
    n = AppendText(line, n, sizeof(line), " ");
    n = AppendText(line, n, sizeof(line), modes_text);
    n = AppendText(line, n, sizeof(line), " ");
    n = AppendNumber(line, n, sizeof(line), seed);
  }
  n = AppendText(line, n, sizeof(line), "\n");
  long fd = syscall(SYS_openat, AT_FDCWD, announce_path,
                    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    RawWrite((int)fd, line, n);
    syscall(SYS_close, fd);
  }
  errno = saved;
}

static void Complain(const char* what, const char* value, size_t length) {
  char line[256];
  size_t n = AppendText(line, 0, sizeof(line), "sockparity_perturb: ");
  n = AppendText(line, n, sizeof(line), what);
  n = AppendText(line, n, sizeof(line), " '");
  for (size_t i = 0; i < length && n + 1 < sizeof(line); ++i) {
    line[n++] = value[i];
  }
  line[n] = '\0';
  n = AppendText(line, n, sizeof(line), "': perturbation disabled\n");
  RawWrite(2, line, n);
}

static bool Is(const char* token, size_t length, const char* name) {
  return strlen(name) == length && memcmp(token, name, length) == 0;
}

void ParseEnvironment(void) {
  const char* text = getenv("SOCKPARITY_PERTURB");
  if (text == NULL || text[0] == '\0') return;
  int parsed = 0;
  for (const char* p = text; *p != '\0';) {
    const char* end = strchr(p, ',');
    size_t length = end ? (size_t)(end - p) : strlen(p);
    if (length == 0) {
      // "a,,b" or a trailing comma: nothing to name.
    } else if (Is(p, length, "all")) {
      parsed |= (1 << SOCKPARITY_PERTURB_MODE_COUNT) - 1;
    } else {
      int found = -1;
      for (int i = 0; i < SOCKPARITY_PERTURB_MODE_COUNT; ++i) {
        if (Is(p, length, kSockparityPerturbModes[i])) found = i;
      }
      if (found < 0) {
        Complain("unknown mode in SOCKPARITY_PERTURB:", p, length);
        return;
      }
      parsed |= 1 << found;
    }
    p += length;
    if (*p == ',') ++p;
  }
  const char* seed_text = getenv("SOCKPARITY_PERTURB_SEED");
  if (seed_text != NULL && seed_text[0] != '\0') {
    uint64_t value = 0;
    for (const char* p = seed_text; *p != '\0'; ++p) {
      uint64_t digit = (uint64_t)(*p - '0');
      if (*p < '0' || *p > '9' || value > (UINT64_MAX - digit) / 10) {
        Complain("bad SOCKPARITY_PERTURB_SEED", seed_text, strlen(seed_text));
        return;
      }
      value = value * 10 + digit;
    }
    seed = value;
  }
  const char* path = getenv("SOCKPARITY_PERTURB_ANNOUNCE");
  if (path != NULL && strlen(path) < sizeof(announce_path)) {
    strcpy(announce_path, path);
  }
  size_t n = 0;
  for (int i = 0; i < SOCKPARITY_PERTURB_MODE_COUNT; ++i) {
    if (!(parsed & (1 << i))) continue;
    if (n > 0) n = AppendText(modes_text, n, sizeof(modes_text), ",");
    n = AppendText(modes_text, n, sizeof(modes_text), kSockparityPerturbModes[i]);
  }
  modes = parsed;
}
