/* Streams small stores and checks the bytes on disk with plain C file I/O:
 * a v2 chunk file, and a v3 shard's index and inner chunk. Also: the
 * settings may be freed right after create, partial appends, Overflow. */
#include "acquire.zarr.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

static unsigned char*
read_file(const char* path, size_t* size)
{
    FILE* f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char* data = malloc((size_t)n);
    CHECK(data != NULL);
    CHECK(fread(data, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

static uint64_t
le64(const unsigned char* p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* 6 frames of 6x5 uint16, value = frame*100 + y*10 + x; chunks 2x4x4. */
static ZarrStream*
make_stream(ZarrVersion version, const char* path)
{
    ZarrStreamSettings* s = calloc(1, sizeof(ZarrStreamSettings));
    CHECK(s != NULL);
    s->store_path = path;
    s->data_type = ZarrDataType_uint16;
    s->version = version;
    s->overwrite = true;
    s->max_threads = 2;
    CHECK(ZarrStreamSettings_create_dimension_array(s, 3) == ZarrStatusCode_Success);
    char* names = malloc(6);
    CHECK(names != NULL);
    memcpy(names, "t\0y\0x\0", 6);
    s->dimensions[0] = (ZarrDimensionProperties){ .name = names, .type = ZarrDimensionType_Time,
        .array_size_px = 6, .chunk_size_px = 2, .shard_size_chunks = 2 };
    s->dimensions[1] = (ZarrDimensionProperties){ .name = names + 2, .type = ZarrDimensionType_Space,
        .array_size_px = 6, .chunk_size_px = 4, .shard_size_chunks = 2 };
    s->dimensions[2] = (ZarrDimensionProperties){ .name = names + 4, .type = ZarrDimensionType_Space,
        .array_size_px = 5, .chunk_size_px = 4, .shard_size_chunks = 2 };
    ZarrStream* stream = ZarrStream_create(s);
    /* Everything the caller allocated goes away before the first append. */
    memset(names, 'Z', 6);
    free(names);
    ZarrStreamSettings_destroy_dimension_array(s);
    memset(s, 0xAB, sizeof(*s));
    free(s);
    CHECK(stream != NULL);

    uint16_t frames[6][6][5];
    for (int t = 0; t < 6; ++t)
        for (int y = 0; y < 6; ++y)
            for (int x = 0; x < 5; ++x)
                frames[t][y][x] = (uint16_t)(t * 100 + y * 10 + x);
    /* Uneven pieces: 7 bytes, then the rest of frame 0 and frames 1-2, ... */
    const unsigned char* bytes = (const unsigned char*)frames;
    size_t sizes[] = { 7, 3 * 60 - 7, 60, 120 };
    size_t offset = 0;
    for (int i = 0; i < 4; ++i) {
        size_t out = 0;
        CHECK(ZarrStream_append(stream, bytes + offset, sizes[i], &out) == ZarrStatusCode_Success);
        CHECK(out == sizes[i]);
        offset += sizes[i];
    }
    CHECK(offset == sizeof(frames));
    size_t out = 1;
    CHECK(ZarrStream_append(stream, bytes, 0, &out) == ZarrStatusCode_Success && out == 0);
    CHECK(ZarrStream_append(stream, bytes, 60, &out) == ZarrStatusCode_Overflow);
    CHECK(out == 0);
    CHECK(strstr(Zarr_get_last_error(), "full") != NULL);
    return stream;
}

static void
check_chunk_t0_y0_x1(const uint16_t* chunk)
{
    /* chunk (t 0-1, y 0-3, x 4-7): x=4 real, x=5..7 padding (zeros) */
    for (int t = 0; t < 2; ++t)
        for (int y = 0; y < 4; ++y)
            for (int x = 0; x < 4; ++x) {
                uint16_t v = chunk[(t * 4 + y) * 4 + x];
                uint16_t expect = x == 0 ? (uint16_t)(t * 100 + y * 10 + 4) : 0;
                CHECK(v == expect);
            }
}

int
main(void)
{
    Zarr_set_log_level(ZarrLogLevel_None);

    ZarrStream* v2 = make_stream(ZarrVersion_2, "files_v2.zarr");
    CHECK(ZarrStream_close(v2) == ZarrStatusCode_Success);
    size_t n = 0;
    unsigned char* chunk = read_file("files_v2.zarr/0/0/0/1", &n);
    CHECK(n == 2 * 4 * 4 * 2);
    uint16_t values[32];
    memcpy(values, chunk, sizeof(values));
    check_chunk_t0_y0_x1(values);
    free(chunk);

    ZarrStream* v3 = make_stream(ZarrVersion_3, "files_v3.zarr");
    CHECK(ZarrStream_close(v3) == ZarrStatusCode_Success);
    /* Shard (0,0,0) covers t 0-3, y 0-7, x 0-7: 2x2x2 inner chunks, of which
     * those with y-chunk 1 hold y 4-5 and x-chunk 1 holds x 4. */
    unsigned char* shard = read_file("files_v3.zarr/0/c/0/0/0", &n);
    const size_t n_inner = 8;
    const size_t index_size = 16 * n_inner + 4;
    CHECK(n == n_inner * 2 * 4 * 4 * 2 + index_size);
    const unsigned char* index = shard + n - index_size;
    /* inner chunk (0, 0, 1) is entry 1 in C order */
    uint64_t offset = le64(index + 16 * 1);
    uint64_t nbytes = le64(index + 16 * 1 + 8);
    CHECK(nbytes == 2 * 4 * 4 * 2);
    CHECK(offset + nbytes <= n - index_size);
    memcpy(values, shard + offset, sizeof(values));
    check_chunk_t0_y0_x1(values);
    free(shard);

    printf("stream files: ok\n");
    return 0;
}
