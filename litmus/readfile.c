/*
 * litmus/readfile.c - bounded reading of one regular file (readfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "litmus/readfile.h"

int lit_read_file(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    /* O_NONBLOCK: opening a FIFO without a writer must not wait for one */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    *out = NULL;
    *len = 0;
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a file", path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        goto fail;
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
        snprintf(err, errlen, "%s: file too large (%lld bytes; the limit is %zu)", path,
                 (long long)st.st_size, max);
        goto fail;
    }
    /* the size may change while we read: never more than max + 1 bytes */
    buf = malloc(max + 2);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    while (n <= max) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        snprintf(err, errlen, "%s: file too large (more than %zu bytes)", path, max);
        goto fail;
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    close(fd);
    return -1;
}
