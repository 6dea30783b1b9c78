// Raw system calls against sockparity's I/O path, on every kind: a 1-byte
// round trip between two threads, and one-way streaming in 64 KiB writes.
#include <sched.h>
#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "benchmarks.h"
#include "io_paths.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/transport.h"

namespace sockparity::bench {
namespace {

constexpr size_t kStreamChunk = size_t{64} << 10;

// Both threads of a benchmark run on one CPU, and the calling thread's old
// affinity comes back afterwards. Across two CPUs a run's figure depended
// on how the scheduler placed the threads (the same code varied 4x between
// runs); on one CPU the figure is the system calls and the switches.
class PinnedToOneCpu {
 public:
  PinnedToOneCpu() {
    have_old_ = ::sched_getaffinity(0, sizeof(old_), &old_) == 0;
    int cpu = ::sched_getcpu();
    CPU_ZERO(&one_);
    CPU_SET(cpu < 0 ? 0 : cpu, &one_);
    Apply();
  }
  ~PinnedToOneCpu() {
    if (have_old_) ::sched_setaffinity(0, sizeof(old_), &old_);
  }
  // Pins the calling thread (the helper thread calls this first).
  void Apply() const { ::sched_setaffinity(0, sizeof(one_), &one_); }

 private:
  cpu_set_t old_;
  cpu_set_t one_;
  bool have_old_ = false;
};

// Makes the pair or marks the benchmark skipped with the reason.
bool MakePair(benchmark::State& state, TransportKind kind, SocketPair& pair) {
  absl::StatusOr<SocketPair> made = MakeConnectedPair(kind);
  if (!made.ok()) {
    state.SkipWithError(std::string(made.status().message()).c_str());
    return false;
  }
  pair = std::move(*made);
  return true;
}

void RoundTrip(benchmark::State& state, TransportKind kind, IoPath path) {
  SocketPair pair;
  if (!MakePair(state, kind, pair)) return;
  PinnedToOneCpu pinned;
  // The echo side answers every byte until end of stream.
  std::thread echo([&] {
    pinned.Apply();
    uint8_t byte = 0;
    while (RecvExactlyVia(path, pair.b, absl::MakeSpan(&byte, 1)) &&
           SendAllVia(path, pair.b, absl::MakeConstSpan(&byte, 1))) {
    }
  });
  uint8_t byte = 'x';
  for (auto _ : state) {
    if (!SendAllVia(path, pair.a, absl::MakeConstSpan(&byte, 1)) ||
        !RecvExactlyVia(path, pair.a, absl::MakeSpan(&byte, 1))) {
      state.SkipWithError("the round trip failed");
      break;
    }
  }
  ::shutdown(pair.a.fd(), SHUT_WR);
  echo.join();
  state.SetItemsProcessed(state.iterations());
}

void Stream(benchmark::State& state, TransportKind kind, IoPath path) {
  SocketPair pair;
  if (!MakePair(state, kind, pair)) return;
  PinnedToOneCpu pinned;
  std::atomic<uint64_t> drained{0};
  std::thread reader([&] {
    pinned.Apply();
    std::vector<uint8_t> buffer(kStreamChunk);
    while (true) {
      ptrdiff_t n = RecvSomeVia(path, pair.b, absl::MakeSpan(buffer));
      if (n <= 0) break;
      drained.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    }
  });
  std::vector<uint8_t> chunk(kStreamChunk, 0x5a);
  for (auto _ : state) {
    if (!SendAllVia(path, pair.a, chunk)) {
      state.SkipWithError("the stream write failed");
      break;
    }
  }
  ::shutdown(pair.a.fd(), SHUT_WR);
  reader.join();
  const uint64_t sent =
      static_cast<uint64_t>(state.iterations()) * kStreamChunk;
  if (!state.error_occurred() && drained.load() != sent) {
    state.SkipWithError(
        absl::StrCat("the reader got ", drained.load(), " of ", sent, " bytes")
            .c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(sent));
}

}  // namespace

void RegisterIoBenchmarks() {
  for (TransportKind kind : kAllTransportKinds) {
    for (IoPath path : {IoPath::kRaw, IoPath::kHarness}) {
      const std::string suffix =
          absl::StrCat(IoPathName(path), "/", TransportName(kind));
      benchmark::RegisterBenchmark(absl::StrCat("RoundTrip/", suffix).c_str(),
                                   RoundTrip, kind, path)
          ->UseRealTime();
      benchmark::RegisterBenchmark(absl::StrCat("Stream/", suffix).c_str(),
                                   Stream, kind, path)
          ->UseRealTime();
    }
  }
}

}  // namespace sockparity::bench
