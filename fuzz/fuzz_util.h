// Shared by the fuzz targets: a per-input descriptor leak check and the
// decoder oracle.
#ifndef SOCKPARITY_FUZZ_FUZZ_UTIL_H_
#define SOCKPARITY_FUZZ_FUZZ_UTIL_H_

#include <dirent.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "sockparity/codec/codec.h"

namespace sockparity::fuzz {

inline int OpenDescriptors() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count;
}

// Aborts (a finding) when an input leaves a descriptor open.
class LeakGuard {
 public:
  LeakGuard() : before_(OpenDescriptors()) {}
  ~LeakGuard() {
    const int after = OpenDescriptors();
    if (after != before_) {
      std::fprintf(
          stderr,
          "sockparity fuzz: %d descriptors open before the input, %d after\n",
          before_, after);
      std::abort();
    }
  }

 private:
  int before_;
};

[[noreturn]] inline void Finding(const char* what) {
  std::fprintf(stderr, "sockparity fuzz finding: %s\n", what);
  std::abort();
}

// Feeds `stream` whole, then in pieces whose sizes come from `splits`, and
// checks: the same frames and the same status either way; no frame over
// the maximum; and a stream that decodes cleanly re-encodes to itself.
inline void CheckDecoder(const Codec& codec, absl::Span<const uint8_t> stream,
                         absl::Span<const uint8_t> splits) {
  auto decode = [&](bool split) {
    std::unique_ptr<FrameDecoder> decoder = codec.NewDecoder();
    std::vector<Bytes> frames;
    absl::Status status;
    size_t offset = 0, next = 0;
    while (offset < stream.size() && status.ok()) {
      size_t piece = stream.size() - offset;
      if (split) {
        piece = splits.empty() ? 1 : 1 + splits[next++ % splits.size()] % 16;
        piece = std::min(piece, stream.size() - offset);
      }
      status = decoder->Feed(stream.subspan(offset, piece), frames);
      offset += piece;
    }
    if (status.ok()) status = decoder->Finish();
    return std::make_pair(std::move(frames), status);
  };
  const auto whole = decode(false);
  const auto pieces = decode(true);
  if (whole.first != pieces.first)
    Finding("frames depend on how the input was split");
  if (whole.second != pieces.second)
    Finding("the status depends on how the input was split");
  size_t total = 0;
  for (const Bytes& frame : whole.first) {
    if (frame.size() > codec.max_frame()) Finding("a frame over the maximum");
    total += frame.size();
  }
  if (total > stream.size()) Finding("more payload than input");
  if (whole.second.ok()) {
    absl::StatusOr<Bytes> again = EncodeAll(codec, whole.first);
    if (!again.ok()) Finding("a decoded frame does not encode");
    if (!std::equal(again->begin(), again->end(), stream.begin(),
                    stream.end())) {
      Finding("a cleanly decoded stream does not re-encode to itself");
    }
  }
}

}  // namespace sockparity::fuzz

#endif  // SOCKPARITY_FUZZ_FUZZ_UTIL_H_
