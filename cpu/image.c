/*
 * cpu/image.c - load the KCore ELF and pre-decode its text. See image.h.
 * Every field read from the file is range-checked: a malformed or hostile
 * ELF gives an error naming the file and the offending place, never UB.
 */
#include "cpu/image.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int fail(char *err, size_t errlen, const char *path, const char *fmt, unsigned long long v)
{
    char what[160];
    snprintf(what, sizeof(what), fmt, v);
    snprintf(err, errlen, "%s: %s", path, what);
    return -1;
}

int kimage_load(struct kimage *img, const char *path, uint64_t text_limit,
                char *err, size_t errlen)
{
    FILE *f;
    long len;
    uint8_t *buf;
    const Elf64_Ehdr *eh;

    memset(img, 0, sizeof(*img));
    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return fail(err, errlen, path, "cannot read%.0llu", 0);
    }
    if ((unsigned long)len > MAX_IMAGE_BYTES) {
        fclose(f);
        return fail(err, errlen, path, "file too large (%llu bytes) for a KCore image", (unsigned long long)len);
    }
    buf = malloc(len ? (size_t)len : 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return fail(err, errlen, path, "cannot read%.0llu", 0);
    }
    fclose(f);

    eh = (const Elf64_Ehdr *)buf;
    if ((size_t)len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) {
        free(buf);
        return fail(err, errlen, path, "offset 0: not an ELF file%.0llu", 0);
    }
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
        eh->e_machine != EM_AARCH64 || eh->e_type != ET_EXEC) {
        unsigned long long machine = eh->e_machine;
        free(buf);
        return fail(err, errlen, path, "offset 0x12: not a little-endian AArch64 ELF64 executable (e_machine %llu)", machine);
    }
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64 ||
        eh->e_phoff > (uint64_t)len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > (uint64_t)len - eh->e_phoff) {
        unsigned long long phoff = eh->e_phoff;
        free(buf);
        return fail(err, errlen, path, "offset 0x20: bad program header table (e_phoff 0x%llx)", phoff);
    }
    img->entry = eh->e_entry;
    img->seg = calloc(eh->e_phnum, sizeof(*img->seg));
    if (!img->seg) {
        free(buf);
        return fail(err, errlen, path, "out of memory%.0llu", 0);
    }
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, buf + eh->e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_offset > (uint64_t)len || ph.p_filesz > (uint64_t)len - ph.p_offset ||
            ph.p_filesz > ph.p_memsz || ph.p_memsz > MAX_IMAGE_BYTES ||
            ph.p_paddr > (1ull << 40)) {
            kimage_free(img);
            free(buf);
            return fail(err, errlen, path, "program header %llu: segment out of the file or too large", i);
        }
        struct kseg *s = &img->seg[img->nseg++];
        s->pa = ph.p_paddr;
        s->filesz = ph.p_filesz;
        s->memsz = ph.p_memsz;
        s->data = malloc(ph.p_filesz ? ph.p_filesz : 1);
        if (!s->data) {
            kimage_free(img);
            free(buf);
            return fail(err, errlen, path, "out of memory%.0llu", 0);
        }
        memcpy(s->data, buf + ph.p_offset, ph.p_filesz);
        if ((ph.p_flags & PF_X) && !img->text) {
            if (ph.p_paddr % 4 || ph.p_paddr + ph.p_memsz > text_limit) {
                kimage_free(img);
                free(buf);
                return fail(err, errlen, path, "executable segment at 0x%llx does not fit the KCore text region", ph.p_paddr);
            }
            img->text_base = ph.p_paddr;
            img->text_size = (ph.p_memsz + 3) & ~3ull;
            img->text = calloc(1, img->text_size);
            img->cls = calloc(1, img->text_size / 4);
            img->run = calloc(1, img->text_size / 4);
            if (!img->text || !img->cls || !img->run) {
                kimage_free(img);
                free(buf);
                return fail(err, errlen, path, "out of memory%.0llu", 0);
            }
            memcpy(img->text, s->data, ph.p_filesz);
        }
    }
    free(buf);
    if (!img->text) {
        kimage_free(img);
        return fail(err, errlen, path, "no executable PT_LOAD segment%.0llu", 0);
    }
    if (img->entry < img->text_base || img->entry >= img->text_base + img->text_size || img->entry % 4) {
        unsigned long long e = img->entry;
        kimage_free(img);
        return fail(err, errlen, path, "entry point 0x%llx is not in the text segment", e);
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
