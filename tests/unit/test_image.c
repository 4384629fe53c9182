/*
 * tests/unit/test_image.c - the KCore ELF loader (cpu/image.c: kimage_parse,
 * kimage_load): a well-formed AArch64 ELF64 executable loads; every other
 * input is refused with one line naming the file, the offset and the field
 * that is wrong (issue 14: a 32-bit or big-endian ELF was blamed on
 * "e_machine 183", which *is* AArch64; a directory was "file too large
 * (9223372036854775807 bytes)"; a FIFO blocked forever).
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cpu/image.h"
#include "hyp/kcore/abi.h"

/* A minimal valid image: header, one PT_LOAD R+X segment of 4 instructions
 * at PA 0x1000, entry at its start. */
struct mini {
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    uint32_t text[4];
};

static void mini_init(struct mini *m)
{
    memset(m, 0, sizeof(*m));
    memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
    m->eh.e_ident[EI_CLASS] = ELFCLASS64;
    m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    m->eh.e_ident[EI_VERSION] = EV_CURRENT;
    m->eh.e_type = ET_EXEC;
    m->eh.e_machine = EM_AARCH64;
    m->eh.e_version = EV_CURRENT;
    m->eh.e_entry = 0x1000;
    m->eh.e_phoff = offsetof(struct mini, ph);
    m->eh.e_ehsize = sizeof(Elf64_Ehdr);
    m->eh.e_phentsize = sizeof(Elf64_Phdr);
    m->eh.e_phnum = 1;
    m->ph.p_type = PT_LOAD;
    m->ph.p_flags = PF_R | PF_X;
    m->ph.p_offset = offsetof(struct mini, text);
    m->ph.p_vaddr = m->ph.p_paddr = 0x1000;
    m->ph.p_filesz = m->ph.p_memsz = sizeof(m->text);
    m->text[0] = 0xd503201fu;  /* nop */
    m->text[1] = 0x91000442u;  /* add x2, x2, #1 */
    m->text[2] = 0xf9400022u;  /* ldr x2, [x1] */
    m->text[3] = 0xd69f03e0u;  /* eret */
}

static void expect_parse(const struct mini *m, size_t len, const char *want)
{
    struct kimage img;
    char err[320] = "";
    int rc = kimage_parse(&img, "k.elf", (const uint8_t *)m, len, KC_TEXT_SIZE, err, sizeof(err));
    if (!want) {
        if (rc != 0)
            fail_msg("expected the image to load: %s", err);
        kimage_free(&img);
        return;
    }
    if (rc != -1 || strncmp(err, "k.elf: ", 7) || !strstr(err, want) || strchr(err, '\n'))
        fail_msg("error '%s' should be one line 'k.elf: ...%s...'", err, want);
}

static void test_kimage_parse_good(void **state)
{
    struct mini m;
    struct kimage img;
    char err[256];
    (void)state;
    mini_init(&m);
    assert_int_equal(kimage_parse(&img, "k.elf", (const uint8_t *)&m, sizeof(m), KC_TEXT_SIZE,
                                  err, sizeof(err)), 0);
    assert_int_equal(img.entry, 0x1000);
    assert_int_equal(img.text_base, 0x1000);
    assert_int_equal(img.text_size, 16);
    assert_int_equal(img.nseg, 1);
    assert_int_equal(img.cls[3], INSN_ERET);
    assert_int_equal(kimage_insn(&img, 0x1008), 0xf9400022u);
    kimage_free(&img);
}

/* Each header field, the first wrong one named with its offset. */
static void test_kimage_parse_header(void **state)
{
    struct mini m;
    (void)state;
    mini_init(&m);
    m.eh.e_ident[EI_CLASS] = ELFCLASS32;
    expect_parse(&m, sizeof(m), "offset 0x4 (e_ident[EI_CLASS]): class 1 is a 32-bit ELF; KCore must be a 64-bit ELF");
    mini_init(&m);
    m.eh.e_ident[EI_CLASS] = 7;
    expect_parse(&m, sizeof(m), "class 7 is not a valid ELF class");
    mini_init(&m);
    m.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    expect_parse(&m, sizeof(m), "offset 0x5 (e_ident[EI_DATA]): data encoding 2 is big-endian; KCore must be little-endian");
    mini_init(&m);
    m.eh.e_ident[EI_VERSION] = 0;
    expect_parse(&m, sizeof(m), "offset 0x6 (e_ident[EI_VERSION])");
    mini_init(&m);
    m.eh.e_machine = EM_X86_64;
    expect_parse(&m, sizeof(m), "offset 0x12 (e_machine): machine 62 (x86-64), not AArch64 (183)");
    mini_init(&m);
    m.eh.e_machine = EM_ARM;
    expect_parse(&m, sizeof(m), "machine 40 (32-bit Arm), not AArch64");
    mini_init(&m);
    m.eh.e_type = ET_DYN;
    expect_parse(&m, sizeof(m), "offset 0x10 (e_type): type 3 (ET_DYN, a shared object or position-independent executable), not an executable");
    mini_init(&m);
    m.eh.e_type = ET_REL;
    expect_parse(&m, sizeof(m), "ET_REL, a relocatable object: link it first");
    mini_init(&m);
    m.eh.e_phentsize = 40;
    expect_parse(&m, sizeof(m), "offset 0x36 (e_phentsize): 40, expected 56");
    mini_init(&m);
    m.eh.e_phnum = 0;
    expect_parse(&m, sizeof(m), "offset 0x38 (e_phnum): 0 program headers");
    mini_init(&m);
    m.eh.e_phnum = 65535;
    expect_parse(&m, sizeof(m), "offset 0x38 (e_phnum): 65535 program headers");
    mini_init(&m);
    m.eh.e_phoff = UINT64_MAX - 8;
    expect_parse(&m, sizeof(m), "offset 0x20 (e_phoff)");
    mini_init(&m);
    m.eh.e_phnum = 3;
    expect_parse(&m, sizeof(m), "offset 0x20 (e_phoff): the program header table (0x40, 3 entries) is not inside the");
    mini_init(&m);
    expect_parse(&m, 0, "offset 0: not an ELF file");
    expect_parse(&m, 10, "offset 0: not an ELF file");
    expect_parse(&m, 40, "40 bytes: too short for the 64-byte ELF64 header");
    memcpy(m.eh.e_ident, "\177ELG", 4);
    expect_parse(&m, sizeof(m), "offset 0: not an ELF file");
}

/* Segments and the entry point. */
static void test_kimage_parse_segments(void **state)
{
    struct mini m;
    (void)state;
    mini_init(&m);
    m.ph.p_offset = UINT64_MAX - 4;
    expect_parse(&m, sizeof(m), "program header 0: file bytes");
    mini_init(&m);
    m.ph.p_filesz = 1ull << 40;
    expect_parse(&m, sizeof(m), "program header 0: file bytes 0x78 + 0x10000000000 are not inside");
    mini_init(&m);
    m.ph.p_memsz = 8;
    expect_parse(&m, sizeof(m), "has more file bytes than memory bytes");
    mini_init(&m);
    m.ph.p_memsz = 1ull << 62;
    expect_parse(&m, sizeof(m), "is too large or too high for KCore");
    mini_init(&m);
    m.ph.p_paddr = KC_TEXT_SIZE - 8;
    expect_parse(&m, sizeof(m), "executable segment at 0xffff8 (0x10 bytes) does not fit the KCore text region");
    mini_init(&m);
    m.ph.p_paddr = 0x1002;
    expect_parse(&m, sizeof(m), "or is not 4-byte aligned");
    mini_init(&m);
    m.ph.p_flags = PF_R;
    expect_parse(&m, sizeof(m), "no executable PT_LOAD segment");
    mini_init(&m);
    m.ph.p_type = PT_NOTE;
    expect_parse(&m, sizeof(m), "no executable PT_LOAD segment");
    mini_init(&m);
    m.eh.e_entry = 0x2000;
    expect_parse(&m, sizeof(m), "offset 0x18 (e_entry): entry point 0x2000 is not an instruction of the text segment [0x1000, 0x1010)");
    mini_init(&m);
    m.eh.e_entry = 0x1002;
    expect_parse(&m, sizeof(m), "entry point 0x1002");
    mini_init(&m);
    m.ph.p_memsz = 64;      /* .bss-like tail: allowed */
    expect_parse(&m, sizeof(m), NULL);
}

static void expect_load(const char *path, const char *want)
{
    struct kimage img;
    char err[320] = "";
    assert_int_equal(kimage_load(&img, path, KC_TEXT_SIZE, err, sizeof(err)), -1);
    if (!strstr(err, path) || !strstr(err, want))
        fail_msg("error '%s' should name %s and say '%s'", err, path, want);
}

/* Files that are not regular: refused by name, never read, never waited on. */
static void test_kimage_load_bad_files(void **state)
{
    char fifo[64], big[64];
    FILE *f;
    (void)state;
    expect_load("/tmp", "is a directory, not a regular file");
    expect_load("/dev/zero", "is a character device, not a regular file");
    expect_load("/nonexistent/kcore.elf", "No such file or directory");
    snprintf(fifo, sizeof(fifo), "/tmp/hypsim_elf_fifo_%d", (int)getpid());
    remove(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_load(fifo, "is a FIFO (named pipe), not a regular file");
    remove(fifo);
    snprintf(big, sizeof(big), "/tmp/hypsim_elf_big_%d", (int)getpid());
    f = fopen(big, "w");
    assert_non_null(f);
    assert_int_equal(fseek(f, 64 << 20, SEEK_SET), 0);
    fputc(0, f);
    fclose(f);
    expect_load(big, "larger than the 64 MiB limit");
    remove(big);
}

/* The build's KCore (when built) loads, and its text is classified. */
static void test_kimage_load_kcore(void **state)
{
    struct kimage img;
    char err[256];
    (void)state;
#ifdef HYPSIM_KCORE_ELF
    if (access(HYPSIM_KCORE_ELF, R_OK) != 0)
        skip();
    if (kimage_load(&img, HYPSIM_KCORE_ELF, KC_TEXT_BASE + KC_TEXT_SIZE, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_true(img.text_size > 0);
    assert_true(img.entry >= img.text_base && img.entry < img.text_base + img.text_size);
    kimage_free(&img);
#else
    (void)img;
    (void)err;
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kimage_parse_good),
        cmocka_unit_test(test_kimage_parse_header),
        cmocka_unit_test(test_kimage_parse_segments),
        cmocka_unit_test(test_kimage_load_bad_files),
        cmocka_unit_test(test_kimage_load_kcore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
