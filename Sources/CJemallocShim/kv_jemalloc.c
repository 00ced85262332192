#define _GNU_SOURCE
#include "kv_jemalloc.h"
#include <dlfcn.h>
#include <malloc.h>
#include <string.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static mallctl_fn lookup_mallctl(void) {
    return (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
}

int kv_jemalloc_version(char *buf, size_t len) {
    mallctl_fn ctl = lookup_mallctl();
    if (ctl == NULL || len == 0) return 0;
    const char *version = NULL;
    size_t sz = sizeof(version);
    if (ctl("version", &version, &sz, NULL, 0) != 0 || version == NULL) return 0;
    strncpy(buf, version, len - 1);
    buf[len - 1] = 0;
    return 1;
}

static size_t read_size(mallctl_fn ctl, const char *name) {
    size_t value = 0, sz = sizeof(value);
    if (ctl(name, &value, &sz, NULL, 0) != 0) return 0;
    return value;
}

kv_jemalloc_stats kv_jemalloc_read_stats(void) {
    kv_jemalloc_stats s;
    memset(&s, 0, sizeof(s));
    mallctl_fn ctl = lookup_mallctl();
    if (ctl == NULL) return s;
    s.loaded = 1;
    uint64_t epoch = 1;
    size_t esz = sizeof(epoch);
    ctl("epoch", &epoch, &esz, &epoch, esz);
    s.allocated = read_size(ctl, "stats.allocated");
    s.active = read_size(ctl, "stats.active");
    s.resident = read_size(ctl, "stats.resident");
    s.mapped = read_size(ctl, "stats.mapped");
    s.retained = read_size(ctl, "stats.retained");
    s.metadata = read_size(ctl, "stats.metadata");
    return s;
}

int kv_jemalloc_is_process_allocator(void) {
    void *jemalloc = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (jemalloc == NULL) return 0;
    void *je_malloc = dlsym(jemalloc, "malloc");
    void *process_malloc = dlsym(RTLD_DEFAULT, "malloc");
    dlclose(jemalloc);
    return je_malloc != NULL && je_malloc == process_malloc;
}

size_t kv_usable_size(void *ptr) {
    return malloc_usable_size(ptr);
}
