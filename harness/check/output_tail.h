// Internal: what a server writes to a log file, followed without holding it
// all. A server may print without limit (100 MB of a stack trace, a log
// line per request): each look reads only what is new, in chunks, and keeps
// a bounded tail, so the suite's memory and time stay bounded and linear.
#ifndef SOCKPARITY_CHECK_OUTPUT_TAIL_H_
#define SOCKPARITY_CHECK_OUTPUT_TAIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "sockparity/net/fd.h"

namespace sockparity::internal {

class OutputTail {
 public:
  // The last `keep` bytes are kept.
  explicit OutputTail(std::string path, size_t keep = 4096)
      : path_(std::move(path)), keep_(keep) {}

  // Reads what was appended since the last call.
  void Update();
  // A whole line "ready" (or "ready\r") seen so far.
  bool ready() const { return ready_; }
  // The kept tail, after a line that says how much came before it, if any.
  std::string Text() const;
  // What came after the first `offset` bytes, as far as the tail still
  // holds it, after a line that says how much of it is not kept.
  std::string Since(uint64_t offset) const;
  uint64_t total() const { return total_; }

 private:
  void Take(const char* data, size_t size);

  std::string path_;
  size_t keep_;
  Fd fd_;
  uint64_t total_ = 0;
  std::string tail_;
  std::string line_;  // the line being read, up to a few bytes
  bool line_too_long_ = false;
  bool ready_ = false;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_OUTPUT_TAIL_H_
