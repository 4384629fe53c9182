/*
 * util/a64lse.c - LSE atomics disassembly. See a64lse.h.
 */
#include "util/a64lse.h"

#include <stdio.h>

/* A general register: x/w n, 31 = the zero register. */
static const char *reg(unsigned n, bool x, char *b, size_t len)
{
    if (n == 31)
        snprintf(b, len, "%s", x ? "xzr" : "wzr");
    else
        snprintf(b, len, "%c%u", x ? 'x' : 'w', n);
    return b;
}

/* The base register: 31 = sp. */
static const char *base(unsigned n, char *b, size_t len)
{
    if (n == 31)
        snprintf(b, len, "sp");
    else
        snprintf(b, len, "x%u", n);
    return b;
}

bool a64_lse_disasm(uint32_t i, char *buf, size_t len)
{
    unsigned size = i >> 30, rs = (i >> 16) & 31, rn = (i >> 5) & 31, rt = i & 31;
    const char *sz = size == 0 ? "b" : size == 1 ? "h" : "";
    bool x = size == 3;
    char a[8], b[8], n[8], c[8], d[8];

    /* CAS{A,L,AL}{B,H}: size 001000 1 L 1 Rs o0 11111 Rn Rt */
    if ((i & 0x3fa07c00u) == 0x08a07c00u) {
        bool acq = (i >> 22) & 1, rel = (i >> 15) & 1;
        snprintf(buf, len, "cas%s%s%s %s, %s, [%s]", acq ? "a" : "", rel ? "l" : "", sz,
                 reg(rs, x, a, sizeof(a)), reg(rt, x, b, sizeof(b)), base(rn, n, sizeof(n)));
        return true;
    }
    /* CASP{A,L,AL}: 0 sz 001000 0 L 1 Rs o0 11111 Rn Rt (Rs, Rt even) */
    if ((i & 0xbfa07c00u) == 0x08207c00u && !(rs & 1) && !(rt & 1) && rs != 30 && rt != 30) {
        bool acq = (i >> 22) & 1, rel = (i >> 15) & 1, px = (i >> 30) & 1;
        snprintf(buf, len, "casp%s%s %s, %s, %s, %s, [%s]", acq ? "a" : "", rel ? "l" : "",
                 reg(rs, px, a, sizeof(a)), reg(rs + 1, px, b, sizeof(b)), reg(rt, px, c, sizeof(c)),
                 reg(rt + 1, px, d, sizeof(d)), base(rn, n, sizeof(n)));
        return true;
    }
    /* atomic memory operations: size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt */
    if ((i & 0x3f200c00u) == 0x38200000u) {
        static const char *const ops[8] = { "add", "clr", "eor", "set", "smax", "smin", "umax", "umin" };
        bool acq = (i >> 23) & 1, rel = (i >> 22) & 1, o3 = (i >> 15) & 1;
        unsigned opc = (i >> 12) & 7;
        const char *ord = acq && rel ? "al" : acq ? "a" : rel ? "l" : "";
        if (o3 && opc == 0) {
            snprintf(buf, len, "swp%s%s %s, %s, [%s]", ord, sz, reg(rs, x, a, sizeof(a)),
                     reg(rt, x, b, sizeof(b)), base(rn, n, sizeof(n)));
            return true;
        }
        if (o3)
            return false;              /* LDAPR and unallocated: not LSE */
        if (rt == 31 && !acq)          /* ST<op>{L}{B,H}: the alias objdump prints */
            snprintf(buf, len, "st%s%s%s %s, [%s]", ops[opc], rel ? "l" : "", sz,
                     reg(rs, x, a, sizeof(a)), base(rn, n, sizeof(n)));
        else
            snprintf(buf, len, "ld%s%s%s %s, %s, [%s]", ops[opc], ord, sz, reg(rs, x, a, sizeof(a)),
                     reg(rt, x, b, sizeof(b)), base(rn, n, sizeof(n)));
        return true;
    }
    return false;
}
