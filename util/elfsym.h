/*
 * util/elfsym.h - addresses of an ELF file to names: function+offset from
 * its symbol table, and file:line where it carries DWARF line tables. Built
 * on elfutils' libdwfl (Debian libdw-dev), read-only, one handle per ELF;
 * the KCore reports use it for PCs (cli/), and it is meant to serve any
 * other PC -> source question (coverage).
 *
 * Without libdw at build time (HYPSIM_HAVE_LIBDW unset) every lookup
 * fails softly: elfsym_open returns NULL and callers print bare addresses.
 */
#ifndef HYPSIM_ELFSYM_H
#define HYPSIM_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elfsym;

struct elfsym_loc {
    const char *func;          /* symbol containing the address, or NULL */
    uint64_t off;              /* address - symbol value */
    const char *file;          /* source file (DWARF), or NULL */
    int line;                  /* source line, 0 when unknown */
};

/* Open path (an ELF executable: its addresses are taken as they are).
 * Returns a handle, or NULL with a one-line message in err. */
struct elfsym *elfsym_open(const char *path, char *err, size_t errlen);
void elfsym_close(struct elfsym *s);

/* Look addr up. Returns true when a symbol or a line was found (the
 * strings live as long as the handle). */
bool elfsym_lookup(struct elfsym *s, uint64_t addr, struct elfsym_loc *loc);

/* "give_to_vm+0x2c" or "give_to_vm+0x2c (hyp/mem.c:88)", or "" when
 * nothing is known (s may be NULL). Returns buf. */
const char *elfsym_format(struct elfsym *s, uint64_t addr, char *buf, size_t len);

#endif
