/*
 * tests/fuzz/fuzz_elf.c - libFuzzer target for the KCore ELF loader
 * (cpu/image.c kimage_parse): any byte string is loaded or refused with
 * one line "fuzz: ...", never a crash, a leak or a read outside the
 * input. A loaded image has its entry point inside its text and every
 * text word classified. Seeds: tests/fuzz/corpus-elf/ (and, in the smoke
 * test, the build's kcore.elf).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/image.h"
#include "hyp/kcore/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kimage img;
    char err[512];
    uint8_t *copy = malloc(size ? size : 1);

    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (kimage_parse(&img, "fuzz", copy, size, KC_TEXT_BASE + KC_TEXT_SIZE, err, sizeof(err)) != 0) {
        if (strncmp(err, "fuzz: ", 6) != 0 || strchr(err, '\n'))
            __builtin_trap();
        free(copy);
        return 0;
    }
    if (img.entry < img.text_base || img.entry >= img.text_base + img.text_size || img.text_size % 4)
        __builtin_trap();
    for (uint64_t off = 0; off < img.text_size; off += 4)
        if (img.cls[off / 4] > INSN_EXCLUSIVE || img.run[off / 4] == 0)
            __builtin_trap();
    kimage_free(&img);
    free(copy);
    return 0;
}
