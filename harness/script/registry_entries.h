// Internal: the registry's entries, in files by subject, and the kind
// groups and outcome patterns they are written with.
#ifndef SOCKPARITY_SCRIPT_REGISTRY_ENTRIES_H_
#define SOCKPARITY_SCRIPT_REGISTRY_ENTRIES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/differences.h"

namespace sockparity::internal {

using K = TransportKind;
inline const std::vector<K> kUnix = {K::kSocketpair, K::kUnixPath,
                                     K::kUnixAbstract};
inline const std::vector<K> kUnixAddressed = {K::kUnixPath, K::kUnixAbstract};
inline const std::vector<K> kTcp = {K::kTcp4, K::kTcp6};
inline const std::vector<K> kAbstractAndTcp = {K::kUnixAbstract, K::kTcp4,
                                               K::kTcp6};
inline const std::vector<K> kAddressed = {K::kUnixPath, K::kUnixAbstract,
                                          K::kTcp4, K::kTcp6};

// `outcome` for every verb that reads (and so returns a pending error or
// the end of stream): recv, recv-exactly, recv-until-eof, recv-waitall,
// recv-fd, recv-oob, peek, drain.
std::vector<std::string> Reads(absl::string_view outcome);
// Every read verb's outcome when it took bytes. (recv-until-eof and drain
// end alike whatever they took: their bytes are compared as the stream.)
std::vector<std::string> ReadsData();
// `outcome` for every verb that writes: send, send-fd, send-oob, fill.
std::vector<std::string> Writes(absl::string_view outcome);
// The patterns of several lists, in one.
std::vector<std::string> Patterns(
    std::initializer_list<std::vector<std::string>> lists);

// How connections end: aborts, shutdowns, closes and the errors they leave.
std::vector<Difference> EndingEntries();
std::vector<Difference> ListenerEntries();
// Receive and send queues: SIOCINQ/SIOCOUTQ, out-of-band bytes, SO_RCVLOWAT.
std::vector<Difference> QueueEntries();
// Sockets not (or not yet) connected: listeners, bound sockets, refused
// and repeated connects, a closing listener's queue.
std::vector<Difference> UnconnectedEntries();

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_REGISTRY_ENTRIES_H_
