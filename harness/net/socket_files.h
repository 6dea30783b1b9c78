// Internal: the socket files this process has bound and not yet removed, so
// the hygiene check can tell which were left behind.
#ifndef SOCKPARITY_NET_SOCKET_FILES_H_
#define SOCKPARITY_NET_SOCKET_FILES_H_

#include <string>
#include <vector>

namespace sockparity::internal {

void NoteSocketFileBound(const std::string& path);
void NoteSocketFileRemoved(const std::string& path);
std::vector<std::string> BoundSocketFiles();

}  // namespace sockparity::internal

#endif  // SOCKPARITY_NET_SOCKET_FILES_H_
