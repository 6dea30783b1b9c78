// The two ways the benchmarks move bytes: raw blocking system calls (the
// baseline: what the kernel costs) and sockparity's deadline-bounded I/O
// (what the suite adds on top). Both handle short transfers and EINTR.
#ifndef SOCKPARITY_BENCH_IO_PATHS_H_
#define SOCKPARITY_BENCH_IO_PATHS_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sockparity/net/socket.h"

namespace sockparity::bench {

enum class IoPath { kRaw, kHarness };

absl::string_view IoPathName(IoPath path);

// Each returns false at end of stream or on an error (the benchmark then
// stops with the reason in errno-free terms: the pair is broken).
bool SendAllVia(IoPath path, const Socket& socket,
                absl::Span<const uint8_t> data);
bool RecvExactlyVia(IoPath path, const Socket& socket, absl::Span<uint8_t> out);
// Receives whatever one call gives, up to out.size(); 0 means end of stream,
// -1 an error.
ptrdiff_t RecvSomeVia(IoPath path, const Socket& socket,
                      absl::Span<uint8_t> out);

}  // namespace sockparity::bench

#endif  // SOCKPARITY_BENCH_IO_PATHS_H_
