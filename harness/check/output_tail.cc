#include "check/output_tail.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace sockparity::internal {
namespace {

constexpr size_t kChunk = 64 * 1024;
// Longer than "ready\r": such a line cannot be the readiness line.
constexpr size_t kLongestReadyLine = 6;

}  // namespace

void OutputTail::Update() {
  if (!fd_.valid()) {
    fd_ = Fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_.valid()) return;
  }
  char buffer[kChunk];
  while (true) {
    const ssize_t got =
        ::pread(fd_.get(), buffer, sizeof(buffer), static_cast<off_t>(total_));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;
    Take(buffer, static_cast<size_t>(got));
  }
}

void OutputTail::Take(const char* data, size_t size) {
  total_ += size;
  for (size_t i = 0; i < size && !ready_; ++i) {
    if (data[i] == '\n') {
      if (!line_too_long_ && (line_ == "ready" || line_ == "ready\r"))
        ready_ = true;
      line_.clear();
      line_too_long_ = false;
    } else if (line_.size() < kLongestReadyLine) {
      line_.push_back(data[i]);
    } else {
      line_too_long_ = true;
    }
  }
  if (size >= keep_) {
    tail_.assign(data + size - keep_, keep_);
  } else {
    tail_.append(data, size);
    if (tail_.size() > keep_) tail_.erase(0, tail_.size() - keep_);
  }
}

std::string OutputTail::Text() const {
  if (total_ <= tail_.size()) return tail_;
  return absl::StrCat("[", total_ - tail_.size(),
                      " earlier bytes not kept; the last ", tail_.size(),
                      " follow]\n", tail_);
}

std::string OutputTail::Since(uint64_t offset) const {
  if (offset >= total_) return "";
  const uint64_t wanted = total_ - offset;
  if (wanted <= tail_.size()) return tail_.substr(tail_.size() - wanted);
  return absl::StrCat("[", wanted - tail_.size(),
                      " earlier bytes not kept; the last ", tail_.size(),
                      " follow]\n", tail_);
}

}  // namespace sockparity::internal
