// Copies of strided rows into buffers that are far larger than the caches
// and read back later by another thread (staged planes, chunks being
// filled): streaming stores where the destination allows them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zarr {

/// Copies `rows` rows of `row_bytes` between strided buffers. Where the
/// destination rows are 16-byte aligned and whole multiples of 64 bytes,
/// streaming (non-temporal) stores write them without first reading every
/// line in, which saves a third of the memory traffic. The caller ends a
/// batch of copies with finish_streaming_copies().
void
copy_rows(uint8_t* dst,
          size_t dst_stride,
          const uint8_t* src,
          size_t src_stride,
          uint64_t rows,
          size_t row_bytes);

/// Orders the streaming stores of copy_rows() (and of codec::shuffle_bytes)
/// before anything that follows, such as handing the buffer to a worker.
void
finish_streaming_copies();

} // namespace zarr
