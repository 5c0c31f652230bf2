// The one table of codecs: which compressor/codec settings name which codec,
// the levels and shuffles each accepts, and the factory that makes it.
#pragma once

#include "codec_chain.hh"
#include "zarr.types.h"

#include <cstddef>

namespace zarr::codec {

/// What compressor None does with the rest of the settings.
enum class NoneCompressor
{
    /// Seed-era settings: a codec other than None is refused, and level
    /// and shuffle are held to Blosc's ranges.
    refuses_codec,
    /// Streams built from `arrays` (acquire-zarr 0.5+): None means
    /// uncompressed whatever the codec, level and shuffle say.
    ignores_codec,
};

/// The codec chain that `settings` ask for (nullptr: uncompressed), for
/// arrays of elements of `item_bytes` bytes. Throws
/// zarr::Error(InvalidSettings), naming the field of `settings` at fault,
/// for settings no codec accepts.
CodecChain
chain_from_settings(const ZarrCompressionSettings* settings,
                    size_t item_bytes,
                    NoneCompressor none = NoneCompressor::refuses_codec);

} // namespace zarr::codec
