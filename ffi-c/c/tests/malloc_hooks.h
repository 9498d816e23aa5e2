/*
 * malloc_hooks.h: replaces malloc and its relatives (calloc, realloc, memalign, aligned_alloc,
 * posix_memalign) and free with wrappers around glibc's own (__libc_malloc, ...), so that a test
 * sees every allocation and every free in the process, Rust's included.
 *
 * The including file defines, before it includes this header:
 *
 *   static void on_allocation(void);   called before each allocation
 *   static void on_free(void *ptr);    called before each free (ptr may be NULL)
 *
 * Include it in one file of a program only. Not for sanitizers or valgrind, which replace malloc
 * themselves.
 */
#ifndef IMDS_TEST_MALLOC_HOOKS_H
#define IMDS_TEST_MALLOC_HOOKS_H

#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *ptr);

void *malloc(size_t size)
{
    on_allocation();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    on_allocation();
    return __libc_calloc(count, size);
}

void *realloc(void *ptr, size_t size)
{
    on_allocation();
    return __libc_realloc(ptr, size);
}

void *memalign(size_t align, size_t size)
{
    on_allocation();
    return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    on_allocation();
    return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    on_allocation();
    void *ptr = __libc_memalign(align, size);
    if (ptr == NULL) {
        return ENOMEM;
    }
    *out = ptr;
    return 0;
}

void free(void *ptr)
{
    on_free(ptr);
    __libc_free(ptr);
}

#endif /* IMDS_TEST_MALLOC_HOOKS_H */
