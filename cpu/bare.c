/*
 * cpu/bare.c - bare-Unicorn baseline. See bare.h.
 */
#include "cpu/bare.h"

#include <stdlib.h>
#include <time.h>
#include <unicorn/unicorn.h>

/* A loop with about the instruction mix of KCore's hot paths (a third
 * memory accesses):
 *   0: movz x1, #0x10, lsl #16     x1 = 0x100000 (data)
 *   4: ldr  x2, [x1]
 *   8: add  x2, x2, #1
 *   c: str  x2, [x1, #8]
 *  10: eor  x3, x2, x2
 *  14: ldr  x4, [x1, x3]
 *  18: subs x5, x4, #0
 *  1c: b    4
 */
static const uint32_t loop_code[] = {
    0xd2a00201, 0xf9400022, 0x91000442, 0xf9000422,
    0xca020043, 0xf8636824, 0xf1000085, 0x17fffffa,
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double bare_unicorn_run(unsigned nengines, uint64_t ninsns)
{
    uc_engine **uc = calloc(nengines, sizeof(*uc));
    uint64_t *pc = calloc(nengines, sizeof(*pc));
    double t0, t = -1;
    unsigned made = 0;

    if (!uc || !pc)
        goto out;
    for (; made < nengines; made++) {
        uint64_t ps = 0x3c9;
        if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc[made]) != UC_ERR_OK)
            goto out;
        uc_ctl_set_cpu_model(uc[made], UC_CPU_ARM64_MAX);
        if (uc_mem_map(uc[made], 0, 0x1000, UC_PROT_ALL) != UC_ERR_OK ||
            uc_mem_map(uc[made], 0x100000, 0x1000, UC_PROT_ALL) != UC_ERR_OK ||
            uc_mem_write(uc[made], 0, loop_code, sizeof(loop_code)) != UC_ERR_OK) {
            uc_close(uc[made]);
            goto out;
        }
        uc_reg_write(uc[made], UC_ARM64_REG_PSTATE, &ps);
    }
    t0 = now();
    for (uint64_t i = 0; i < ninsns; i++) {
        unsigned e = (unsigned)(i % nengines);
        if (uc_emu_start(uc[e], pc[e], ~0ull, 0, 1) != UC_ERR_OK)
            goto out;
        uc_reg_read(uc[e], UC_ARM64_REG_PC, &pc[e]);
    }
    t = now() - t0;
out:
    for (unsigned i = 0; i < made; i++)
        uc_close(uc[i]);
    free(uc);
    free(pc);
    return t;
}
