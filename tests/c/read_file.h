/* Reads a whole file into a NUL-terminated buffer the caller frees (NULL if
 * it cannot be read): for the C tests that check what landed in the store. */
#ifndef ACQUIRE_ZARR_TEST_READ_FILE_H
#define ACQUIRE_ZARR_TEST_READ_FILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char*
read_file(const char* path, size_t* size)
{
    FILE* f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char* buf = (char*)malloc(cap + 1);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char* bigger = (char*)realloc(buf, cap + 1);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        if (size != NULL) {
            *size = n;
        }
    }
    return buf;
}

/* True if the file at `path` exists and contains `needle`. */
static inline int
file_contains(const char* path, const char* needle)
{
    char* text = read_file(path, NULL);
    const int found = text != NULL && strstr(text, needle) != NULL;
    free(text);
    return found;
}

#endif
