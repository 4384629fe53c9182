/*
 * cpu/peek.c - a CPU's registers for a debugger, also part-way through a
 * step group. See peek.h.
 */
#include "cpu/peek.h"

#include <string.h>
#include <unicorn/unicorn.h>

static int xreg_id(unsigned n)
{
    return n <= 28 ? UC_ARM64_REG_X0 + (int)n : n == 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X30;
}

static void read_engine(uc_engine *uc, struct cpu_regs *r)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 31; i++) {
        r->x[i] = 0;
        uc_reg_read(uc, xreg_id(i), &r->x[i]);
    }
    r->sp = 0;
    uc_reg_read(uc, UC_ARM64_REG_SP, &r->sp);
    uc_reg_read(uc, UC_ARM64_REG_PSTATE, &v);
    r->pstate = (uint32_t)v;
}

void cpu_read_regs(const struct cpu *c, struct cpu_regs *r)
{
    memset(r, 0, sizeof(*r));
    if (c->uc)
        read_engine(c->uc, r);
    r->pc = c->pc;
}

unsigned cpu_group_len(const struct cpu *c)
{
    const struct kimage *img = c->img;
    if (c->mode != CPU_KCORE || !img || c->pc < img->text_base ||
        c->pc >= img->text_base + img->text_size || (c->pc & 3))
        return 0;
    if (img->cls[(c->pc - img->text_base) / 4] != INSN_PLAIN)
        return 1;
    return img->run[(c->pc - img->text_base) / 4];
}

int cpu_peek_regs(const struct cpu *c, unsigned k, struct cpu_regs *r)
{
    uc_engine *uc = c->uc;
    uc_context *ctx = NULL;
    uc_err e;

    cpu_read_regs(c, r);
    if (k == 0)
        return 0;
    if (!uc || k >= cpu_group_len(c))
        return -1;
    /* Only register-only instructions precede the last one of a group. */
    for (unsigned i = 0; i < k; i++)
        if (!insn_register_only(kimage_insn(c->img, c->pc + 4ull * i)))
            return -1;
    if (uc_context_alloc(uc, &ctx) != UC_ERR_OK)
        return -1;
    if (uc_context_save(uc, ctx) != UC_ERR_OK) {
        uc_context_free(ctx);
        return -1;
    }
    e = uc_emu_start(uc, c->pc, ~0ull, 0, k);
    if (e == UC_ERR_OK) {
        read_engine(uc, r);
        uc_reg_read(uc, UC_ARM64_REG_PC, &r->pc);
    }
    uc_context_restore(uc, ctx);
    uc_context_free(ctx);
    if (e != UC_ERR_OK) {
        cpu_read_regs(c, r);
        return -1;
    }
    return 0;
}
