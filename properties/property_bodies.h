// The bodies of sockparity's properties, as functions of what they check
// (a codec, a registry), so a test can run them on something broken on
// purpose and see them fail.
#ifndef SOCKPARITY_PROPERTIES_PROPERTY_BODIES_H_
#define SOCKPARITY_PROPERTIES_PROPERTY_BODIES_H_

#include <rapidcheck.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sockparity/codec/codec.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/differences.h"

namespace sockparity::properties {

// The codecs the properties range over, by name.
std::vector<std::string> CodecNames();
std::unique_ptr<Codec> MakeCodec(const std::string& name);

// 1. Messages encoded by `codec`, written over a pair of `kind` in writes
// of the generated sizes (paced where asked, so the reader sees partial
// headers), decode to the same messages.
void FramingOverTheWire(const Codec& codec, TransportKind kind);

// 2. Any bytes, fed whole or split at any points, give the same frames and
// the same error at the same offset.
void DecoderSplitInvariance(const Codec& codec);

// 2b. Any bytes, and a header claiming more than the codec's limit, are
// refused without the decoder holding memory for bytes not yet fed.
void BadInputRefusedCheaply(const Codec& codec);

// One choice of the lifecycle generator among `n`, every one of them as
// likely at any size (and shrinking towards 0).
rc::Gen<uint32_t> LifecycleChoice(uint32_t n);

// 3. A random legal script gives traces on every available kind that are
// equal or differ only as `registry` allows; a failure prints the script.
void DifferentialLifecycle(const DifferenceRegistry& registry);

}  // namespace sockparity::properties

#endif  // SOCKPARITY_PROPERTIES_PROPERTY_BODIES_H_
