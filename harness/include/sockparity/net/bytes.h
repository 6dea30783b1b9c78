#ifndef SOCKPARITY_NET_BYTES_H_
#define SOCKPARITY_NET_BYTES_H_

#include <cstdint>
#include <vector>

namespace sockparity {

using Bytes = std::vector<uint8_t>;

}  // namespace sockparity

#endif  // SOCKPARITY_NET_BYTES_H_
