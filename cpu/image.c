/*
 * cpu/image.c - load the KCore ELF and pre-decode its text. See image.h.
 * Every field read from the file is range-checked: a malformed or hostile
 * ELF gives an error naming the file and the offending place, never UB.
 */
#include "cpu/image.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

#define MAX_IMAGE_BYTES (64u << 20)

enum insn_class insn_classify(uint32_t i)
{
    if (i == 0xd69f03e0u)                              /* ERET */
        return INSN_ERET;
    if ((i & 0xffe0001fu) == 0xd4000002u ||            /* HVC #imm */
        (i & 0xffe0001fu) == 0xd4000003u ||            /* SMC #imm */
        (i & 0xffe0001fu) == 0xd4000001u)              /* SVC #imm */
        return INSN_HVC;
    if ((i & 0xffe0001fu) == 0xd4200000u)              /* BRK #imm */
        return INSN_BRK;
    /* Load/store exclusive: size:2 001000 o2=0 L o1 Rs o0 Rt2 Rn Rt */
    if ((i & 0x3f800000u) == 0x08000000u)
        return INSN_EXCLUSIVE;
    if ((i & 0xffc00000u) == 0xd5000000u) {            /* system instruction space */
        unsigned l = (i >> 21) & 1, op0 = (i >> 19) & 3;
        unsigned crn = (i >> 12) & 15, op2 = (i >> 5) & 7, crm = (i >> 8) & 15;
        if (op0 == 0) {
            if (crn == 3 && op2 == 4)                  /* DSB */
                return INSN_DSB;
            if (crn == 2 && crm == 0 && op2 == 2)
                return INSN_WFE;
            if (crn == 2 && crm == 0 && op2 == 3)
                return INSN_WFX;                       /* WFI */
            if (crn == 2 && crm == 0 && (op2 == 4 || op2 == 5))
                return INSN_SEV;                       /* SEV, SEVL */
            if (crn == 2 || crn == 3)                  /* hints, DMB, ISB, CLREX */
                return INSN_BARRIER;
            return INSN_PLAIN;                         /* MSR (immediate): PSTATE */
        }
        if (op0 == 1)
            return l ? INSN_PLAIN : INSN_SYS;          /* SYSL: let Unicorn UNDEF it */
        return l ? INSN_MRS : INSN_MSR;
    }
    return INSN_PLAIN;
}

int insn_register_only(uint32_t i)
{
    unsigned op0 = (i >> 25) & 15;
    if (insn_classify(i) != INSN_PLAIN)
        return 0;
    return (op0 & 14) == 8 ||   /* 100x: data processing, immediate */
           (op0 & 7) == 5 ||    /* x101: data processing, register */
           (op0 & 7) == 7;      /* x111: SIMD and floating point */
}

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    char what[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", path, what);
    return -1;
}

/* A few e_machine values by name, for "not AArch64" messages. */
static const char *machine_name(unsigned m)
{
    switch (m) {
    case EM_NONE: return "none";
    case EM_386: return "i386";
    case EM_ARM: return "32-bit Arm";
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "AArch64";
    case EM_RISCV: return "RISC-V";
    case EM_PPC64: return "PowerPC 64";
    case EM_S390: return "S/390";
    case EM_MIPS: return "MIPS";
    default: return "unknown";
    }
}

static const char *type_name(unsigned t)
{
    switch (t) {
    case ET_NONE: return "ET_NONE, no file type";
    case ET_REL: return "ET_REL, a relocatable object: link it first";
    case ET_DYN: return "ET_DYN, a shared object or position-independent executable";
    case ET_CORE: return "ET_CORE, a core dump";
    default: return "unknown";
    }
}

/* The ELF header, checked field by field so that the message names the
 * first field that is wrong (offsets: System V ABI, ELF64 header). */
static int check_header(const uint8_t *buf, size_t len, const char *path, char *err, size_t errlen)
{
    Elf64_Ehdr eh;

    if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, path, "offset 0: not an ELF file (no \\177ELF magic)");
    if (buf[EI_CLASS] != ELFCLASS64)
        return fail(err, errlen, path,
                    "offset 0x4 (e_ident[EI_CLASS]): class %u is %s; KCore must be a 64-bit ELF (class 2)",
                    buf[EI_CLASS], buf[EI_CLASS] == ELFCLASS32 ? "a 32-bit ELF" : "not a valid ELF class");
    if (buf[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, path,
                    "offset 0x5 (e_ident[EI_DATA]): data encoding %u is %s; KCore must be little-endian (1)",
                    buf[EI_DATA], buf[EI_DATA] == ELFDATA2MSB ? "big-endian" : "not a valid encoding");
    if (buf[EI_VERSION] != EV_CURRENT)
        return fail(err, errlen, path, "offset 0x6 (e_ident[EI_VERSION]): version %u, expected 1",
                    buf[EI_VERSION]);
    if (len < sizeof(eh))
        return fail(err, errlen, path, "%zu bytes: too short for the 64-byte ELF64 header", len);
    memcpy(&eh, buf, sizeof(eh));
    if (eh.e_machine != EM_AARCH64)
        return fail(err, errlen, path, "offset 0x12 (e_machine): machine %u (%s), not AArch64 (%u)",
                    eh.e_machine, machine_name(eh.e_machine), EM_AARCH64);
    if (eh.e_type != ET_EXEC)
        return fail(err, errlen, path, "offset 0x10 (e_type): type %u (%s), not an executable (ET_EXEC, 2)",
                    eh.e_type, type_name(eh.e_type));
    if (eh.e_phentsize != sizeof(Elf64_Phdr))
        return fail(err, errlen, path, "offset 0x36 (e_phentsize): %u, expected %zu",
                    eh.e_phentsize, sizeof(Elf64_Phdr));
    if (eh.e_phnum == 0 || eh.e_phnum > 64)
        return fail(err, errlen, path, "offset 0x38 (e_phnum): %u program headers, expected 1..64",
                    eh.e_phnum);
    if (eh.e_phoff > len || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
        return fail(err, errlen, path,
                    "offset 0x20 (e_phoff): the program header table (0x%llx, %u entries) is not inside the %zu-byte file",
                    (unsigned long long)eh.e_phoff, eh.e_phnum, len);
    return 0;
}

int kimage_parse(struct kimage *img, const char *path, const uint8_t *buf, size_t len,
                 uint64_t text_limit, char *err, size_t errlen)
{
    Elf64_Ehdr eh;

    memset(img, 0, sizeof(*img));
    if (len > MAX_IMAGE_BYTES)
        return fail(err, errlen, path, "%zu bytes: larger than the %u MiB limit for a KCore image",
                    len, MAX_IMAGE_BYTES >> 20);
    if (check_header(buf, len, path, err, errlen))
        return -1;
    memcpy(&eh, buf, sizeof(eh));
    img->entry = eh.e_entry;
    img->seg = calloc(eh.e_phnum, sizeof(*img->seg));
    if (!img->seg)
        return fail(err, errlen, path, "out of memory");
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
            kimage_free(img);
            return fail(err, errlen, path,
                        "program header %u: file bytes 0x%llx + 0x%llx are not inside the %zu-byte file",
                        i, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz, len);
        }
        if (ph.p_filesz > ph.p_memsz || ph.p_memsz > MAX_IMAGE_BYTES || ph.p_paddr > (1ull << 40)) {
            kimage_free(img);
            return fail(err, errlen, path,
                        "program header %u: segment at 0x%llx of 0x%llx bytes (0x%llx in the file) %s",
                        i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
                        (unsigned long long)ph.p_filesz,
                        ph.p_filesz > ph.p_memsz ? "has more file bytes than memory bytes"
                                                 : "is too large or too high for KCore");
        }
        struct kseg *s = &img->seg[img->nseg++];
        s->pa = ph.p_paddr;
        s->filesz = ph.p_filesz;
        s->memsz = ph.p_memsz;
        s->data = malloc(ph.p_filesz ? ph.p_filesz : 1);
        if (!s->data) {
            kimage_free(img);
            return fail(err, errlen, path, "out of memory");
        }
        memcpy(s->data, buf + ph.p_offset, ph.p_filesz);
        if ((ph.p_flags & PF_X) && !img->text) {
            if (ph.p_paddr % 4 || ph.p_paddr + ph.p_memsz > text_limit) {
                kimage_free(img);
                return fail(err, errlen, path,
                            "program header %u: executable segment at 0x%llx (0x%llx bytes) does not fit the KCore text region [0, 0x%llx)%s",
                            i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
                            (unsigned long long)text_limit, ph.p_paddr % 4 ? " or is not 4-byte aligned" : "");
            }
            img->text_base = ph.p_paddr;
            img->text_size = (ph.p_memsz + 3) & ~3ull;
            img->text = calloc(1, img->text_size);
            img->cls = calloc(1, img->text_size / 4);
            img->run = calloc(1, img->text_size / 4);
            if (!img->text || !img->cls || !img->run) {
                kimage_free(img);
                return fail(err, errlen, path, "out of memory");
            }
            memcpy(img->text, s->data, ph.p_filesz);
        }
    }
    if (!img->text) {
        kimage_free(img);
        return fail(err, errlen, path, "no executable PT_LOAD segment (no program header with p_type PT_LOAD and PF_X)");
    }
    if (img->entry < img->text_base || img->entry >= img->text_base + img->text_size || img->entry % 4) {
        unsigned long long e = img->entry, b = img->text_base, end = img->text_base + img->text_size;
        kimage_free(img);
        return fail(err, errlen, path, "offset 0x18 (e_entry): entry point 0x%llx is not an instruction of the text segment [0x%llx, 0x%llx)",
                    e, b, end);
    }
    for (uint64_t off = 0; off < img->text_size; off += 4)
        img->cls[off / 4] = (uint8_t)insn_classify(kimage_insn(img, img->text_base + off));
    /* Step groups, computed backwards: a register-only instruction joins
     * the group of the plain instruction after it. */
    for (uint64_t w = img->text_size / 4; w-- > 0;) {
        uint64_t next = w + 1;
        img->run[w] = 1;
        if (next < img->text_size / 4 && img->cls[next] == INSN_PLAIN &&
            insn_register_only(kimage_insn(img, img->text_base + 4 * w)) &&
            img->run[next] < KIMAGE_MAX_RUN)
            img->run[w] = (uint8_t)(img->run[next] + 1);
    }
    return 0;
}

int kimage_load(struct kimage *img, const char *path, uint64_t text_limit,
                char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int rc;

    memset(img, 0, sizeof(*img));
    /* a regular file only (never blocks on a FIFO), refused by size first */
    if (fs_read_regular(path, MAX_IMAGE_BYTES, &buf, &len, err, errlen) != 0)
        return -1;
    rc = kimage_parse(img, path, (const uint8_t *)buf, len, text_limit, err, errlen);
    free(buf);
    return rc;
}

void kimage_free(struct kimage *img)
{
    for (unsigned i = 0; i < img->nseg; i++)
        free(img->seg[i].data);
    free(img->seg);
    free(img->text);
    free(img->cls);
    free(img->run);
    memset(img, 0, sizeof(*img));
}
