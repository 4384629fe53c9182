/*
 * util/fsutil.c - bounded reads of regular files, output path checks.
 * See fsutil.h.
 */
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *fs_type_name(unsigned mode)
{
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

int fs_open_regular(const char *path, uint64_t *size, char *err, size_t errlen)
{
    struct stat st;
    int fd, fl;

    if (!path || !*path) {
        snprintf(err, errlen, "%s: empty file name", path ? path : "(null)");
        return -1;
    }
    /* O_NONBLOCK: opening a FIFO that has no writer returns at once
     * instead of waiting for one; fstat then tells what it is. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: is %s, not a regular file", path, fs_type_name(st.st_mode));
        close(fd);
        return -1;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (size)
        *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    return fd;
}

static void size_text(size_t n, char *out, size_t len)
{
    if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(out, len, "%zu MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(out, len, "%zu KiB", n >> 10);
    else
        snprintf(out, len, "%zu-byte", n);
}

int fs_read_regular(const char *path, size_t max, char **bufp, size_t *lenp,
                    char *err, size_t errlen)
{
    uint64_t size;
    size_t cap, n = 0;
    char *buf, lim[32];
    int fd;

    *bufp = NULL;
    *lenp = 0;
    size_text(max, lim, sizeof(lim));
    fd = fs_open_regular(path, &size, err, errlen);
    if (fd < 0)
        return -1;
    if (size > max) {
        snprintf(err, errlen, "%s: %llu bytes: larger than the %s limit", path,
                 (unsigned long long)size, lim);
        close(fd);
        return -1;
    }
    /* one byte more than announced: a file that grows is noticed */
    cap = (size_t)size + 1;
    buf = malloc(cap + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory for %llu bytes", path, (unsigned long long)size);
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t k;
        if (n == cap) {
            char *nb;
            if (cap > max) {
                snprintf(err, errlen, "%s: larger than the %s limit (it grew while being read)", path, lim);
                goto fail;
            }
            cap = cap > max / 2 ? max + 1 : cap * 2;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            buf = nb;
        }
        k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(err, errlen, "%s: read error at byte %zu: %s", path, n, strerror(errno));
            goto fail;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (n > max) {
        snprintf(err, errlen, "%s: larger than the %s limit (it grew while being read)", path, lim);
        goto fail;
    }
    close(fd);
    buf[n] = 0;
    *bufp = buf;
    *lenp = n;
    return 0;
fail:
    free(buf);
    close(fd);
    return -1;
}

int fs_check_output(const char *path, char *err, size_t errlen)
{
    struct stat st;
    char dir[4096];
    const char *slash;

    if (!path || !*path) {
        snprintf(err, errlen, "%s: empty file name", path ? path : "(null)");
        return -1;
    }
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "%s: is %s, not a file that can be written", path,
                     fs_type_name(st.st_mode));
            return -1;
        }
        if (access(path, W_OK) != 0) {
            snprintf(err, errlen, "%s: cannot be written: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) >= sizeof(dir)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    } else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "%s: directory %s: %s", path, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s is %s, not a directory", path, dir, fs_type_name(st.st_mode));
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s: directory %s is not writable: %s", path, dir, strerror(errno));
        return -1;
    }
    return 0;
}
