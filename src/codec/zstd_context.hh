// The calling thread's libzstd compression context, shared by the codecs
// that compress with libzstd directly (Blosc planes' zstd blocks, the zstd
// codec).
#pragma once

#include <zstd.h>

#include <new>

namespace zarr::codec {

/// The calling thread's libzstd compression context, made on first use and
/// kept for the thread's life: ZSTD_compress makes and frees one for every
/// call (c-blosc 1.x does so for every block), and with it a workspace of
/// about 170 KiB whose tables it clears, which is costly at low levels and
/// small inputs (benchmarks/README.md: zstd-context). ZSTD_compressCCtx
/// takes its level from each call and ignores advanced parameters, so one
/// context serves every level and codec.
inline ZSTD_CCtx*
thread_zstd_context()
{
    struct Context
    {
        ZSTD_CCtx* cctx = ZSTD_createCCtx();
        ~Context() { ZSTD_freeCCtx(cctx); }
    };
    thread_local Context context;
    if (context.cctx == nullptr) {
        throw std::bad_alloc();
    }
    return context.cctx;
}

} // namespace zarr::codec
