/*
 * util/fsutil.h - reading input files and checking output paths, the same
 * way for every reader of the project (traces, scenarios, KCore ELFs, the
 * SHA-256 of a file).
 *
 * Inputs must be regular files: a directory, a FIFO, a device or a socket
 * is refused by name, without ever blocking on it (a FIFO with no writer
 * would block an ordinary open(2) forever), and a file larger than the
 * caller's limit is refused before it is read. Every error is one line,
 * "PATH: reason", for the caller to print.
 */
#ifndef HYPSIM_FSUTIL_H
#define HYPSIM_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Open path for reading, refusing anything but a regular file. Returns
 * the file descriptor (size in *size when size is not NULL), or -1 with
 * "PATH: reason" in err. */
int fs_open_regular(const char *path, uint64_t *size, char *err, size_t errlen);

/* Read the whole regular file at path, at most max bytes, into a malloc'd
 * buffer with a NUL after the last byte. Returns 0 with *buf and *len
 * (free *buf), or -1 with "PATH: reason" in err (not a regular file,
 * larger than max - "N bytes, more than the LIMIT limit" -, read error,
 * out of memory). A file that grows past max while being read is refused
 * the same way. */
int fs_read_regular(const char *path, size_t max, char **buf, size_t *len,
                    char *err, size_t errlen);

/* Check, before any long work, that path can be written as an output
 * file: its directory exists and is writable, and path is not a
 * directory or another non-regular file (a FIFO or device is refused: the
 * write would block or go nowhere). Creates nothing. Returns 0, or -1 with
 * "PATH: reason" in err. */
int fs_check_output(const char *path, char *err, size_t errlen);

/* "a directory", "a FIFO (named pipe)", ... for the type bits of st_mode. */
const char *fs_type_name(unsigned mode);

#endif
