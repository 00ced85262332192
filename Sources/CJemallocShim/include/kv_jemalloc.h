#pragma once
#include <stddef.h>
#include <stdint.h>

/// Statistics read from jemalloc through mallctl (all zero when jemalloc is not the allocator).
typedef struct kv_jemalloc_stats {
    int loaded;            /* 1 when mallctl was found in the process */
    size_t allocated;      /* stats.allocated: bytes the application holds */
    size_t active;         /* stats.active */
    size_t resident;       /* stats.resident */
    size_t mapped;         /* stats.mapped */
    size_t retained;       /* stats.retained */
    size_t metadata;       /* stats.metadata */
} kv_jemalloc_stats;

/// Copies jemalloc's version string into buf (NUL-terminated). Returns 0 when jemalloc is not loaded.
int kv_jemalloc_version(char *buf, size_t len);

/// Refreshes jemalloc's statistics epoch and reads the main counters.
kv_jemalloc_stats kv_jemalloc_read_stats(void);

/// 1 when the process's malloc is jemalloc's (checked by comparing the resolved `malloc` symbol
/// with the one exported by libjemalloc), 0 otherwise.
int kv_jemalloc_is_process_allocator(void);

/// Bytes the allocator really reserved for a pointer (malloc_usable_size).
size_t kv_usable_size(void *ptr);
