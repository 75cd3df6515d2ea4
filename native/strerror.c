/*
 * shim_strerror, alone in its file because it needs the POSIX (XSI) strerror_r, which returns an int
 * and fills the caller's buffer, while shim.c defines _GNU_SOURCE for accept4, splice and friends and
 * so would get glibc's GNU variant (returns a char *). musl has only the POSIX one. Declaring POSIX
 * and not GNU here gives the same function on glibc and musl.
 */
#define _POSIX_C_SOURCE 200809L
#include "shim.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ADDR(p) ((void *)(intptr_t)(p))

/* Copies strerror(err) into buf (NUL-terminated); returns its length. */
int shim_strerror(int err, long long buf, int len) {
    if (len <= 0) return -EINVAL;
    char tmp[256];
    int rc = strerror_r(err, tmp, sizeof tmp);
    if (rc != 0) snprintf(tmp, sizeof tmp, "Unknown error %d", err); /* EINVAL: not an errno; ERANGE: cannot happen at 256 */
    size_t n = strlen(tmp);
    if (n >= (size_t)len) n = (size_t)len - 1;
    memcpy(ADDR(buf), tmp, n);
    ((char *)ADDR(buf))[n] = 0;
    return (int)n;
}
