/*
 * util/elfsym.c - ELF address symbolization with libdwfl. See elfsym.h.
 * The ELF is reported "offline" (as a file, not a process), so libdwfl
 * uses its addresses as linked: right for KCore, an ET_EXEC loaded at its
 * physical addresses.
 */
#include "util/elfsym.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HYPSIM_HAVE_LIBDW
#include <elfutils/libdwfl.h>

struct elfsym {
    Dwfl *dwfl;
    Dwfl_Module *mod;
};

static char *no_debuginfo_path = NULL;

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &no_debuginfo_path,
};

struct elfsym *elfsym_open(const char *path, char *err, size_t errlen)
{
    struct elfsym *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    s->dwfl = dwfl_begin(&offline_callbacks);
    if (!s->dwfl) {
        snprintf(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
        free(s);
        return NULL;
    }
    dwfl_report_begin(s->dwfl);
    s->mod = dwfl_report_offline(s->dwfl, "kcore", path, -1);
    if (!s->mod || dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
        snprintf(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
        dwfl_end(s->dwfl);
        free(s);
        return NULL;
    }
    return s;
}

void elfsym_close(struct elfsym *s)
{
    if (!s)
        return;
    dwfl_end(s->dwfl);
    free(s);
}

bool elfsym_lookup(struct elfsym *s, uint64_t addr, struct elfsym_loc *loc)
{
    GElf_Off off = 0;
    GElf_Sym sym;
    Dwfl_Line *ln;

    memset(loc, 0, sizeof(*loc));
    if (!s)
        return false;
    loc->func = dwfl_module_addrinfo(s->mod, addr, &off, &sym, NULL, NULL, NULL);
    loc->off = off;
    ln = dwfl_module_getsrc(s->mod, addr);
    if (ln) {
        int line = 0;
        loc->file = dwfl_lineinfo(ln, NULL, &line, NULL, NULL, NULL);
        loc->line = line;
    }
    return loc->func || loc->file;
}

#else  /* no libdw: nothing is known */

struct elfsym { int unused; };

struct elfsym *elfsym_open(const char *path, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: symbols unavailable (hypsim was built without libdw)", path);
    return NULL;
}

void elfsym_close(struct elfsym *s)
{
    (void)s;
}

bool elfsym_lookup(struct elfsym *s, uint64_t addr, struct elfsym_loc *loc)
{
    (void)s;
    (void)addr;
    memset(loc, 0, sizeof(*loc));
    return false;
}

#endif

const char *elfsym_format(struct elfsym *s, uint64_t addr, char *buf, size_t len)
{
    struct elfsym_loc l;
    size_t o = 0;

    if (len)
        buf[0] = 0;
    if (!len || !elfsym_lookup(s, addr, &l))
        return buf;
    if (l.func)
        o = (size_t)snprintf(buf, len, "%s+0x%" PRIx64, l.func, l.off);
    if (l.file && o < len) {
        const char *f = strrchr(l.file, '/');
        /* hyp/mem.c rather than the build's absolute path */
        const char *hyp = strstr(l.file, "/hyp/");
        f = hyp ? hyp + 1 : f ? f + 1 : l.file;
        snprintf(buf + o, len - o, "%s%s:%d%s", l.func ? " (" : "", f, l.line, l.func ? ")" : "");
    }
    return buf;
}
