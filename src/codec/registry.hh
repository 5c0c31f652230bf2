// The one table of codecs: which compressor/codec settings name which codec,
// the levels and shuffles each accepts, and the factory that makes it.
#pragma once

#include "codec_chain.hh"
#include "zarr.types.h"

#include <cstddef>

namespace zarr::codec {

/// The codec chain that `settings` ask for (nullptr: uncompressed), for
/// arrays of elements of `item_bytes` bytes. Throws
/// zarr::Error(InvalidSettings), naming the field of `settings` at fault,
/// for settings no codec accepts.
CodecChain
chain_from_settings(const ZarrCompressionSettings* settings, size_t item_bytes);

} // namespace zarr::codec
