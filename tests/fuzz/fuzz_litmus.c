/*
 * tests/fuzz/fuzz_litmus.c - libFuzzer target for the litmus reader
 * (litmus/parse.c, lex.c, decode.c, cond.c) and, on what it accepts, the
 * explorer (litmus/explore.c) with a small state bound: any byte string
 * must be read or refused with a one-line error naming the input, and a
 * test that reads must run or stop at the bound, never crash, hang or
 * leak. Built with clang (-fsanitize=fuzzer,address,undefined) by
 * litmus/CMakeLists.txt where clang can link libFuzzer; ctest runs a short
 * smoke (fuzz_litmus_smoke); seeds in tests/fuzz/litmus-corpus/, words in
 * tests/fuzz/litmus.dict. A longer run:
 *   build/litmus/fuzz_litmus -dict=tests/fuzz/litmus.dict -max_total_time=600 \
 *       /tmp/litmus-fuzz-corpus tests/fuzz/litmus-corpus ../shared/litmus/herd-vmsa
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "litmus/litmus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lit_test t;        /* 60 KiB: not on the stack */
    char err[768], *text;

    if (size > LIT_MAX_FILE_BYTES)   /* lit_parse_file refuses these */
        return 0;
    /* lit_parse reads a C string: the input up to its first NUL, in a
     * buffer of exactly that size (ASan catches a read past the end) */
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (lit_parse("fuzz", text, &t, err, sizeof(err)) != 0) {
        if (strncmp(err, "fuzz:", 5) != 0 || strchr(err, '\n'))
            __builtin_trap();        /* errors name the file, one line */
        free(text);
        return 0;
    }
    free(text);
    /* (an unsupported test may stop being read early: no threads yet) */
    if (strchr(t.unsupported, '\n') || (!t.unsupported[0] && t.nthreads == 0) || t.nthreads > LIT_MAX_THREADS ||
        t.nlocs > LIT_MAX_LOCS || t.nnodes > LIT_MAX_NODES || t.nobs > LIT_MAX_OBS)
        __builtin_trap();
    struct lit_opts o = { .max_states = 300, .memory_relaxed = (size & 1) != 0 };   /* small: many inputs per second; both memory models */
    struct lit_result r;
    int rc = lit_run(&t, &o, &r);
    if (rc == 0 && (!r.ok || (r.nfinal && !r.final)))
        __builtin_trap();
    enum lit_class c = lit_classify(LV_FORBIDDEN, &r);
    if (rc == 0 && r.nfinal == 0 && c != LC_NO_VERDICT)
        __builtin_trap();            /* no final state: never "sound" */
    lit_result_free(&r);
    if (rc == 0 && !t.unsupported[0]) {
        o.relaxed = true;            /* the diagnostic mode too */
        lit_run(&t, &o, &r);
        lit_result_free(&r);
    }
    return 0;
}
