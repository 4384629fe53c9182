/*
 * cpu/image.h - the KCore ELF image: loaded once, shared by every CPU.
 *
 * The text is pre-decoded once into a class per instruction word so the
 * step loop knows, before running an instruction, whether the model must
 * emulate it (system registers, maintenance, barriers, ERET, HVC, BRK,
 * exclusives) or Unicorn may run it. Decoding follows the A64 encoding
 * tables (Arm ARM C4.1 "A64 instruction set encoding").
 */
#ifndef HYPSIM_IMAGE_H
#define HYPSIM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum insn_class {
    INSN_PLAIN = 0,     /* Unicorn runs it (data accesses reach the model via MMIO) */
    INSN_MSR,           /* MSR <sysreg>, Xt */
    INSN_MRS,           /* MRS Xt, <sysreg> */
    INSN_SYS,           /* SYS: TLBI, DC, IC, AT */
    INSN_DSB,
    INSN_BARRIER,       /* DMB, ISB, CLREX, hints (NOP, YIELD, SEV...) */
    INSN_ERET,
    INSN_HVC,           /* HVC/SMC/SVC executed by KCore itself */
    INSN_BRK,           /* panic */
    INSN_WFX,           /* WFI */
    INSN_WFE,
    INSN_SEV,           /* SEV, SEVL */
    INSN_EXCLUSIVE,     /* LDXR/STXR family: not supported (per-engine monitors) */
};

struct kimage {
    uint64_t entry;
    uint8_t *text;          /* [text_base, text_base + text_size) */
    uint64_t text_base, text_size;
    uint8_t *cls;           /* one enum insn_class per 4-byte word of text */
    uint8_t *run;           /* instructions one step runs from here (>= 1) */
    struct kseg { uint64_t pa; uint64_t filesz, memsz; uint8_t *data; } *seg;
    unsigned nseg;
};

/* Load an AArch64 ELF64 executable. On error returns -1 and writes a
 * one-line message naming the file and the place into err. The text
 * segment is the executable PT_LOAD at text_base..; it must fit
 * [0, text_limit). */
int kimage_load(struct kimage *img, const char *path, uint64_t text_limit,
                char *err, size_t errlen);
/* The same from the file's bytes held in memory (path names it in
 * messages; fuzzed by tests/fuzz/fuzz_elf.c). */
int kimage_parse(struct kimage *img, const char *path, const uint8_t *buf, size_t len,
                 uint64_t text_limit, char *err, size_t errlen);
void kimage_free(struct kimage *img);

/* Class of one instruction word (exposed for tests). */
enum insn_class insn_classify(uint32_t insn);

/* Does this INSN_PLAIN word only read and write registers, without memory
 * access or change of control flow (data processing, immediate or
 * register; Arm ARM C4.1, op0 = bits[28:25])? Such instructions commute
 * with every other CPU's events, so a step runs a straight-line group of
 * them together with the next visible instruction (at most KIMAGE_MAX_RUN). */
int insn_register_only(uint32_t insn);
#define KIMAGE_MAX_RUN 32

/* Fields of a system instruction (MSR/MRS/SYS). */
struct sysinsn { unsigned op0, op1, crn, crm, op2, rt; };
static inline struct sysinsn sysinsn_decode(uint32_t i)
{
    struct sysinsn s = { (i >> 19) & 3, (i >> 16) & 7, (i >> 12) & 15,
                         (i >> 8) & 15, (i >> 5) & 7, i & 31 };
    return s;
}

static inline uint32_t kimage_insn(const struct kimage *img, uint64_t pc)
{
    const uint8_t *p = img->text + (pc - img->text_base);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
