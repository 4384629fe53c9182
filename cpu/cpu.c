/*
 * cpu/cpu.c - a simulated CPU running KCore. See cpu.h.
 */
#include "cpu/cpu.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "hyp/hv.h"
#include "util/a64lse.h"

#define PSTATE_EL2H 0x3c9ull   /* EL2h, DAIF masked */
#define PSTATE_EL1H 0x3c5ull
#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_WXN (1ull << 19)
#define HCR_VM (1ull << 0)

/* System-register encodings (op0, op1, CRn, CRm, op2), Arm ARM D17. */
static const struct { uint8_t op0, op1, crn, crm, op2; bool ro; const char *name; } sr_enc[SR_COUNT] = {
    [SR_SCTLR_EL2]  = {3, 4, 1, 0, 0, false, "SCTLR_EL2"},
    [SR_HCR_EL2]    = {3, 4, 1, 1, 0, false, "HCR_EL2"},
    [SR_TTBR0_EL2]  = {3, 4, 2, 0, 0, false, "TTBR0_EL2"},
    [SR_TCR_EL2]    = {3, 4, 2, 0, 2, false, "TCR_EL2"},
    [SR_VTTBR_EL2]  = {3, 4, 2, 1, 0, false, "VTTBR_EL2"},
    [SR_VTCR_EL2]   = {3, 4, 2, 1, 2, false, "VTCR_EL2"},
    [SR_SPSR_EL2]   = {3, 4, 4, 0, 0, false, "SPSR_EL2"},
    [SR_ELR_EL2]    = {3, 4, 4, 0, 1, false, "ELR_EL2"},
    [SR_ESR_EL2]    = {3, 4, 5, 2, 0, false, "ESR_EL2"},
    [SR_FAR_EL2]    = {3, 4, 6, 0, 0, false, "FAR_EL2"},
    [SR_HPFAR_EL2]  = {3, 4, 6, 0, 4, false, "HPFAR_EL2"},
    [SR_MAIR_EL2]   = {3, 4, 10, 2, 0, false, "MAIR_EL2"},
    [SR_VBAR_EL2]   = {3, 4, 12, 0, 0, false, "VBAR_EL2"},
    [SR_TPIDR_EL2]  = {3, 4, 13, 0, 2, false, "TPIDR_EL2"},
    [SR_MPIDR_EL1]  = {3, 0, 0, 0, 5, true, "MPIDR_EL1"},
    [SR_SCTLR_EL1]  = {3, 0, 1, 0, 0, false, "SCTLR_EL1"},
    [SR_TTBR0_EL1]  = {3, 0, 2, 0, 0, false, "TTBR0_EL1"},
    [SR_TTBR1_EL1]  = {3, 0, 2, 0, 1, false, "TTBR1_EL1"},
    [SR_TCR_EL1]    = {3, 0, 2, 0, 2, false, "TCR_EL1"},
    [SR_SPSR_EL1]   = {3, 0, 4, 0, 0, false, "SPSR_EL1"},
    [SR_ELR_EL1]    = {3, 0, 4, 0, 1, false, "ELR_EL1"},
    [SR_ESR_EL1]    = {3, 0, 5, 2, 0, false, "ESR_EL1"},
    [SR_FAR_EL1]    = {3, 0, 6, 0, 0, false, "FAR_EL1"},
    [SR_MAIR_EL1]   = {3, 0, 10, 2, 0, false, "MAIR_EL1"},
    [SR_VBAR_EL1]   = {3, 0, 12, 0, 0, true, "VBAR_EL1"},
    [SR_CTR_EL0]    = {3, 3, 0, 0, 1, true, "CTR_EL0"},
    [SR_DCZID_EL0]  = {3, 3, 0, 0, 7, true, "DCZID_EL0"},
    [SR_CURRENTEL]  = {3, 0, 4, 2, 2, true, "CurrentEL"},
};

const char *sysreg_name(enum sysreg r)
{
    return (unsigned)r < SR_COUNT ? sr_enc[r].name : "?";
}

const char *trap_name(enum trap_kind k)
{
    static const char *const n[] = {
        "none", "KCore data abort", "undefined instruction", "KCore panic",
        "load/store exclusive", "WFI/WFE", "PC outside KCore text", "emulator error",
        "data read of KCore text",
    };
    return (unsigned)k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}

/* Registers Unicorn itself keeps (PSTATE fields, FP control, EL0 regs). */
static bool sr_passthrough(const struct sysinsn *s)
{
    if (s->op0 == 3 && s->op1 == 3 && s->crn == 4)            /* NZCV, DAIF, FPCR, FPSR */
        return true;
    if (s->op0 == 3 && s->op1 == 0 && s->crn == 4 && s->crm == 2 && s->op2 == 0)
        return true;                                           /* SPSel */
    if (s->op0 == 3 && s->op1 == 3 && s->crn == 13 && s->crm == 0)
        return true;                                           /* TPIDR_EL0, TPIDRRO_EL0 */
    return false;
}

static int sr_lookup(const struct sysinsn *s)
{
    for (int r = 0; r < SR_COUNT; r++)
        if (sr_enc[r].op0 == s->op0 && sr_enc[r].op1 == s->op1 && sr_enc[r].crn == s->crn &&
            sr_enc[r].crm == s->crm && sr_enc[r].op2 == s->op2)
            return r;
    return -1;
}

static int xreg_id(unsigned n)
{
    if (n <= 28)
        return UC_ARM64_REG_X0 + (int)n;
    return n == 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X30;
}

uint64_t cpu_xreg(const struct cpu *c, unsigned n)
{
    uint64_t v = 0;
    if (n < 31)
        uc_reg_read(c->uc, xreg_id(n), &v);
    return v;
}

void cpu_set_xreg(struct cpu *c, unsigned n, uint64_t v)
{
    if (n < 31)
        uc_reg_write(c->uc, xreg_id(n), &v);
}

/* Rebuild KCore's EL2 translation context after a system-register write. */
static void update_el2_ctx(struct cpu *c)
{
    c->el2.regime = MMU_REGIME_EL2;
    c->el2.s1.m = c->sr[SR_SCTLR_EL2] & SCTLR_M;
    c->el2.s1.c = c->sr[SR_SCTLR_EL2] & SCTLR_C;
    c->el2.s1.wxn = c->sr[SR_SCTLR_EL2] & SCTLR_WXN;
    c->el2.s1.ttbr0 = c->sr[SR_TTBR0_EL2];
    c->el2.s1.ttbr1 = 0;
    c->el2.s1.tcr = c->sr[SR_TCR_EL2];
    c->el2.s1.mair = c->sr[SR_MAIR_EL2];
    c->el2.s2.vm = false;
}

void cpu_el1_ctx(const struct cpu *c, struct mmu_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->regime = MMU_REGIME_EL10;
    ctx->s1.m = false;
    ctx->s2.vm = c->sr[SR_HCR_EL2] & HCR_VM;
    ctx->s2.vttbr = c->sr[SR_VTTBR_EL2];
    ctx->s2.vtcr = c->sr[SR_VTCR_EL2];
    msys_bind_ops(c->ms, ctx);
}

static void set_trap(struct cpu *c, enum trap_kind k, uint64_t info)
{
    if (c->trap.kind != TRAP_NONE)
        return;
    c->trap.kind = k;
    c->trap.pc = c->pc;
    c->trap.insn = (c->pc >= c->img->text_base && c->pc + 4 <= c->img->text_base + c->img->text_size)
                       ? kimage_insn(c->img, c->pc) : 0;
    c->trap.info = info;
}

/* One model access of the hypervisor at EL2 (from the MMIO callbacks). */
static int kcore_access(struct cpu *c, uint64_t va, unsigned size, enum mmu_access acc,
                        uint64_t *val)
{
    struct mmu_fault f;
    struct msys_access a;
    struct msys_req rq = { .cpu = c->idx, .who = LABEL_HYP, .ctx = &c->el2, .va = va,
                           .size = size, .acc = acc, .val = acc == MMU_ACC_WRITE ? *val : 0 };
    int rc;

    if (c->trap.kind != TRAP_NONE)
        return -1;
    rc = msys_access(c->ms, &rq, &a, &f);
    if (rc == MSYS_FAULT) {
        c->trap.fault = f;
        set_trap(c, TRAP_DATA_ABORT, va);
        return -1;
    }
    if (rc != MSYS_OK) {
        memset(&c->trap.fault, 0, sizeof(c->trap.fault));
        c->trap.fault.type = MMU_FAULT_EXTERNAL;
        c->trap.fault.va = va;
        set_trap(c, TRAP_DATA_ABORT, va);
        return -1;
    }
    if (acc == MMU_ACC_READ)
        *val = a.val;
    if (c->nacc < CPU_MAX_ACCESS)
        c->acc[c->nacc++] = a;
    return 0;
}

static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
    struct cpu *c = ud;
    uint64_t v = 0;
    (void)uc;
    kcore_access(c, c->mmio_base + off, size, MMU_ACC_READ, &v);
    return v;
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *ud)
{
    struct cpu *c = ud;
    (void)uc;
    kcore_access(c, c->mmio_base + off, size, MMU_ACC_WRITE, &v);
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *ud)
{
    struct cpu *c = ud;
    uc_reg_read(uc, UC_ARM64_REG_PC, &c->pc);
    /* QEMU exception numbers: 1 UNDEF, 3 prefetch abort, 4 data abort,
     * 7 BKPT. */
    enum trap_kind k = TRAP_UNDEF;
    if (intno == 7)
        k = TRAP_PANIC;
    else if (intno == 3 || intno == 4)
        k = TRAP_UNICORN;
    set_trap(c, k, intno);
    uc_emu_stop(uc);
}

/* A data read of KCore's text: Unicorn 2.0.1 does not enforce an
 * execute-only mapping against data reads (measured), so the read would
 * bypass the model. Treat it as a KCore fault. */
static void hook_text_read(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
                           int64_t value, void *ud)
{
    struct cpu *c = ud;
    (void)type; (void)size; (void)value;
    set_trap(c, TRAP_TEXT_READ, addr);
    uc_emu_stop(uc);
}

int cpu_init(struct cpu *c, unsigned idx, unsigned ncpus, const struct kimage *img,
             struct msys *ms, const struct hv_ops *hv)
{
    uc_engine *uc;
    uc_hook h;
    uint64_t v;
    uint64_t text_map = (img->text_base + img->text_size + 0xfff) & ~0xfffull;

    memset(c, 0, sizeof(*c));
    c->idx = idx;
    c->img = img;
    c->ms = ms;
    c->hv = hv;
    if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc) != UC_ERR_OK)
        return -1;
    c->uc = uc;
    uc_ctl_set_cpu_model(uc, UC_CPU_ARM64_MAX);
    /* Text: Unicorn RAM, execute-only (data reads of text are caught). */
    if (text_map < hv->layout.text_base + hv->layout.text_size)
        text_map = hv->layout.text_base + hv->layout.text_size;
    if (uc_mem_map(uc, 0, text_map, UC_PROT_EXEC) != UC_ERR_OK ||
        uc_mem_write(uc, img->text_base, img->text, img->text_size) != UC_ERR_OK)
        goto fail;
    c->mmio_base = text_map;
    c->mmio_end = ms->mem.size;
    if (c->mmio_end > c->mmio_base &&
        uc_mmio_map(uc, c->mmio_base, c->mmio_end - c->mmio_base, mmio_read, c,
                    mmio_write, c) != UC_ERR_OK)
        goto fail;
    if (uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)hook_intr, c, 1, 0) != UC_ERR_OK ||
        uc_hook_add(uc, &h, UC_HOOK_MEM_READ, (void *)hook_text_read, c, 0, text_map - 1) != UC_ERR_OK)
        goto fail;

    c->sr[SR_MPIDR_EL1] = (1ull << 31) | idx;
    c->sr[SR_VBAR_EL1] = hv->boot.host_vbar_el1;
    c->sr[SR_CTR_EL0] = 0x84448004ull;   /* DminLine = IminLine = 4: 64-byte lines */
    c->sr[SR_DCZID_EL0] = 4;             /* DC ZVA block 2^4 words = 64 bytes */
    c->sr[SR_CURRENTEL] = 2u << 2;
    msys_bind_ops(ms, &c->el2);
    update_el2_ctx(c);

    v = PSTATE_EL2H;
    uc_reg_write(uc, UC_ARM64_REG_PSTATE, &v);
    cpu_set_xreg(c, 0, idx);
    cpu_set_xreg(c, 1, ncpus);
    cpu_set_xreg(c, 2, ms->mem.size);
    c->pc = img->entry;
    c->mode = CPU_KCORE;
    return 0;
fail:
    uc_close(uc);
    c->uc = NULL;
    return -1;
}

void cpu_free(struct cpu *c)
{
    if (c->uc)
        uc_close(c->uc);
    c->uc = NULL;
}

static void emulate_msr_mrs(struct cpu *c, uint32_t insn, bool read)
{
    struct sysinsn s = sysinsn_decode(insn);
    int r = sr_lookup(&s);

    if (r < 0) {
        set_trap(c, TRAP_UNDEF, insn);
        return;
    }
    if (read) {
        if (s.rt != 31)
            cpu_set_xreg(c, s.rt, c->sr[r]);
    } else {
        if (sr_enc[r].ro) {
            set_trap(c, TRAP_UNDEF, insn);
            return;
        }
        uint64_t old = c->sr[r];
        c->sr[r] = s.rt == 31 ? 0 : cpu_xreg(c, s.rt);
        update_el2_ctx(c);
        if (ev_wanted(&c->ms->bus, EV_SYSREG_WRITE)) {
            struct ev e = { .kind = EV_SYSREG_WRITE, .cpu = (int)c->idx };
            e.u.sysreg.reg = (unsigned)r;
            e.u.sysreg.old = old;
            e.u.sysreg.val = c->sr[r];
            ev_dispatch(&c->ms->bus, &e);
        }
    }
}

static void emulate_sys(struct cpu *c, uint32_t insn)
{
    struct sysinsn s = sysinsn_decode(insn);
    uint64_t xt = s.rt == 31 ? 0 : cpu_xreg(c, s.rt);

    if (s.crn == 8) {                                  /* TLBI */
        struct tlbi_op op;
        if (tlbi_decode(s.op1, s.crm, s.op2, xt, MMU_VTTBR_VMID(c->sr[SR_VTTBR_EL2]), &op) != 0 ||
            msys_tlbi(c->ms, c->idx, &op) != 0)
            set_trap(c, TRAP_UNDEF, insn);
        return;
    }
    if (s.crn == 7) {
        if (s.op1 == 0 && s.op2 == 0 && (s.crm == 5 || s.crm == 1))
            return;                                    /* IC IALLU(IS): no I-cache modelled */
        enum dc_op op;
        if (s.op1 == 3 && s.crm == 10 && s.op2 == 1)
            op = DC_CVAC;
        else if (s.op1 == 3 && s.crm == 14 && s.op2 == 1)
            op = DC_CIVAC;
        else if (s.op1 == 0 && s.crm == 6 && s.op2 == 1)
            op = DC_IVAC;
        else if (s.op1 == 3 && s.crm == 4 && s.op2 == 1)
            op = DC_ZVA;
        else {
            set_trap(c, TRAP_UNDEF, insn);
            return;
        }
        /* DC by VA: translated through the hypervisor's stage 1. */
        struct mmu_fault f;
        switch (msys_dc(c->ms, c->idx, LABEL_HYP, &c->el2, op, xt, &f)) {
        case MSYS_OK:
            break;
        case MSYS_FAULT:
            c->trap.fault = f;
            set_trap(c, TRAP_DATA_ABORT, xt);
            break;
        default:
            set_trap(c, TRAP_DATA_ABORT, xt);
            break;
        }
        return;
    }
    set_trap(c, TRAP_UNDEF, insn);                     /* AT and the rest */
}

/* DMB, DSB, ISB (Arm ARM C6.2: CRm holds the option of DMB/DSB; op2 4 DSB,
 * 5 DMB, 6 ISB). CLREX and the hints are not barriers. */
static void emulate_barrier(struct cpu *c, uint32_t insn)
{
    struct sysinsn s = sysinsn_decode(insn);
    enum ev_barrier k;

    if (s.crn != 3 || s.op2 < 4 || s.op2 > 6)
        return;
    k = s.op2 == 4 ? EV_BAR_DSB : s.op2 == 5 ? EV_BAR_DMB : EV_BAR_ISB;
    msys_barrier(c->ms, c->idx, k, (s.crm >> 2) & 3, s.crm & 3);
}

static void eret_event(struct cpu *c, uint64_t elr, label_t to)
{
    if (ev_wanted(&c->ms->bus, EV_ERET)) {
        struct ev e = { .kind = EV_ERET, .cpu = (int)c->idx };
        e.u.eret.elr = elr;
        e.u.eret.to = to;
        ev_dispatch(&c->ms->bus, &e);
    }
}

static enum cpu_event emulate_eret(struct cpu *c)
{
    uint64_t spsr = c->sr[SR_SPSR_EL2], elr = c->sr[SR_ELR_EL2];
    unsigned el = (spsr >> 2) & 3;

    if (spsr & 0x10) {                                 /* AArch32 */
        set_trap(c, TRAP_UNDEF, spsr);
        return CPU_EV_TRAP;
    }
    if (el == 2) {
        uc_reg_write(c->uc, UC_ARM64_REG_PSTATE, &spsr);
        c->pc = elr;
        eret_event(c, elr, LABEL_HYP);
        return CPU_EV_INSN;
    }
    if (el != 1) {
        set_trap(c, TRAP_UNDEF, spsr);
        return CPU_EV_TRAP;
    }
    label_t who = c->hv->vmid_principal(MMU_VTTBR_VMID(c->sr[SR_VTTBR_EL2]));
    c->eret_elr = elr;
    if (who == LABEL_HOST) {
        c->mode = CPU_HOST;
    } else {
        c->mode = CPU_GUEST;
        c->guest_vm = (unsigned)LABEL_VM_INDEX(who);
    }
    eret_event(c, elr, who);
    return CPU_EV_ERET_EL1;
}

static enum cpu_event step_one(struct cpu *c)
{
    uint64_t pc = c->pc;
    uint32_t insn;
    enum cpu_event ev = CPU_EV_INSN;

    c->nacc = 0;
    c->last_pc = pc;
    if (c->mode != CPU_KCORE || c->trap.kind != TRAP_NONE)
        return CPU_EV_TRAP;
    if (pc < c->img->text_base || pc >= c->img->text_base + c->img->text_size || (pc & 3)) {
        set_trap(c, TRAP_PC, pc);
        goto trapped;
    }
    insn = kimage_insn(c->img, pc);
    switch ((enum insn_class)c->img->cls[(pc - c->img->text_base) / 4]) {
    case INSN_PLAIN: {
        /* A group of register-only instructions and the visible one that
         * ends it (image.h); the group is straight-line, so a fault in the
         * model's callbacks belongs to its last instruction. */
        unsigned n = c->img->run[(pc - c->img->text_base) / 4];
        c->pc = c->last_pc = pc + 4ull * (n - 1);
        uc_err e = uc_emu_start(c->uc, pc, ~0ull, 0, n);
        if (c->trap.kind != TRAP_NONE)
            goto trapped;
        if (e != UC_ERR_OK) {
            set_trap(c, TRAP_UNICORN, (uint64_t)e);
            goto trapped;
        }
        uc_reg_read(c->uc, UC_ARM64_REG_PC, &c->pc);
        c->insns += n;
        return CPU_EV_INSN;
    }
    case INSN_MSR:
    case INSN_MRS: {
        struct sysinsn s = sysinsn_decode(insn);
        if (sr_passthrough(&s)) {
            uc_err e = uc_emu_start(c->uc, pc, ~0ull, 0, 1);
            if (e != UC_ERR_OK || c->trap.kind != TRAP_NONE) {
                set_trap(c, TRAP_UNICORN, (uint64_t)e);
                goto trapped;
            }
            uc_reg_read(c->uc, UC_ARM64_REG_PC, &c->pc);
            c->insns++;
            return CPU_EV_INSN;
        }
        emulate_msr_mrs(c, insn, c->img->cls[(pc - c->img->text_base) / 4] == INSN_MRS);
        break;
    }
    case INSN_SYS:
        emulate_sys(c, insn);
        break;
    case INSN_DSB:
    case INSN_BARRIER:
        emulate_barrier(c, insn);
        break;
    case INSN_ERET:
        c->insns++;
        ev = emulate_eret(c);
        if (ev == CPU_EV_TRAP)
            goto trapped;
        return ev;
    case INSN_BRK:
        set_trap(c, TRAP_PANIC, cpu_xreg(c, 0));
        goto trapped;
    case INSN_EXCLUSIVE:
        set_trap(c, TRAP_EXCLUSIVE, insn);
        goto trapped;
    case INSN_WFX:
        set_trap(c, TRAP_WFX, insn);
        goto trapped;
    case INSN_WFE:
        /* WFE: consume a pending event, else wait for one (an implementation
         * may also wake spuriously; this model does not). */
        c->pc = pc + 4;
        c->insns++;
        if (c->event)
            c->event = false;
        else
            c->mode = CPU_WFE;
        return CPU_EV_INSN;
    case INSN_SEV:
        c->pc = pc + 4;
        c->insns++;
        if ((insn >> 5 & 7) == 5) {                    /* SEVL: this CPU only */
            c->event = true;
            return CPU_EV_INSN;
        }
        return CPU_EV_SEV;
    case INSN_HVC:
    default:
        set_trap(c, TRAP_UNDEF, insn);
        goto trapped;
    }
    if (c->trap.kind != TRAP_NONE)
        goto trapped;
    c->pc = pc + 4;
    c->insns++;
    return CPU_EV_INSN;
trapped:
    c->mode = CPU_HALTED;
    return CPU_EV_TRAP;
}

enum cpu_event cpu_step(struct cpu *c)
{
    uint64_t pc = c->pc, before = c->insns;
    enum cpu_event ev = step_one(c);

    if (c->insns != before && ev_wanted(&c->ms->bus, EV_INSN)) {
        struct ev e = { .kind = EV_INSN, .cpu = (int)c->idx };
        e.u.insn.pc = pc;
        e.u.insn.n = (unsigned)(c->insns - before);
        e.u.insn.next_pc = c->pc;
        ev_dispatch(&c->ms->bus, &e);
    }
    return ev;
}

void cpu_signal_event(struct cpu *c)
{
    c->event = true;
    if (c->mode == CPU_WFE) {
        c->event = false;
        c->mode = CPU_KCORE;
    }
}

void cpu_take_exception(struct cpu *c, uint64_t esr, uint64_t far, uint64_t hpfar,
                        uint64_t elr)
{
    uint64_t ps = PSTATE_EL2H;

    if (ev_wanted(&c->ms->bus, EV_EXC_ENTRY)) {
        struct ev e = { .kind = EV_EXC_ENTRY, .cpu = (int)c->idx };
        e.u.exc.esr = esr;
        e.u.exc.far = far;
        e.u.exc.hpfar = hpfar;
        e.u.exc.elr = elr;
        e.u.exc.from = c->mode == CPU_GUEST ? LABEL_VM(c->guest_vm) : LABEL_HOST;
        ev_dispatch(&c->ms->bus, &e);
    }
    c->sr[SR_ESR_EL2] = esr;
    c->sr[SR_FAR_EL2] = far;
    c->sr[SR_HPFAR_EL2] = hpfar;
    c->sr[SR_ELR_EL2] = elr;
    c->sr[SR_SPSR_EL2] = PSTATE_EL1H;
    uc_reg_write(c->uc, UC_ARM64_REG_PSTATE, &ps);
    c->pc = c->sr[SR_VBAR_EL2] + 0x400;
    c->mode = CPU_KCORE;
}

void cpu_disasm(const struct cpu *c, uint64_t pc, char *buf, size_t len)
{
    csh h;
    cs_insn *ins;
    const struct kimage *img = c->img;

    snprintf(buf, len, "<no instruction at 0x%llx>", (unsigned long long)pc);
    if (pc < img->text_base || pc + 4 > img->text_base + img->text_size)
        return;
    if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &h) != CS_ERR_OK)
        return;
    if (cs_disasm(h, img->text + (pc - img->text_base), 4, pc, 1, &ins) == 1) {
        snprintf(buf, len, "%s %s", ins->mnemonic, ins->op_str);
        cs_free(ins, 1);
    } else if (!a64_lse_disasm(kimage_insn(img, pc), buf, len)) {   /* Capstone 4 lacks LSE */
        snprintf(buf, len, ".inst 0x%08x", kimage_insn(img, pc));
    }
    cs_close(&h);
}
