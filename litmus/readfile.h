/*
 * litmus/readfile.h - bounded reading of one input file (internal to
 * litmus/): the litmus reader and the verdict reader both go through it,
 * so that neither blocks on a FIFO, reads a device without end, or takes
 * a directory for a file.
 */
#ifndef HYPSIM_LITMUS_READFILE_H
#define HYPSIM_LITMUS_READFILE_H

#include <stddef.h>

/* Read the regular file path, of at most max bytes, into a new
 * NUL-terminated buffer (*out, to free; *len bytes without the NUL).
 * Refused, with "path: reason" in err: a file that cannot be opened or
 * read, a directory, any other non-regular file (FIFO, device, socket:
 * opened without blocking, never read), a file larger than max. */
int lit_read_file(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen);

#endif
