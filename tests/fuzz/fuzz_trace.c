/*
 * tests/fuzz/fuzz_trace.c - libFuzzer target for the trace reader
 * (traces/trace.c): any byte string must be accepted or refused with a
 * one-line error naming the input, never crash, hang or leak. Accepted
 * traces must also survive a write / re-read round trip unchanged.
 * Build: cmake -DCMAKE_C_COMPILER=clang -DHYPSIM_FUZZ=ON; seed corpus in
 * tests/fuzz/corpus/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace t, u;
    char err[512], *txt, *copy;

    /* A private copy with no terminator after it: the reader must respect
     * the length it is given (ASan catches a read past the end). */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (trace_parse(&t, "fuzz", copy, size, err, sizeof(err)) != 0) {
        if (strncmp(err, "fuzz: ", 6) != 0 || strchr(err, '\n'))
            __builtin_trap();                  /* errors name the file, one line */
        free(copy);
        return 0;
    }
    free(copy);
    txt = trace_to_json(&t);
    if (txt) {
        if (trace_parse(&u, "round-trip", txt, strlen(txt), err, sizeof(err)) != 0)
            __builtin_trap();                  /* what we write, we read */
        if (u.nchoice != t.nchoice || u.nckpt != t.nckpt || u.steps != t.steps ||
            (t.nchoice && memcmp(u.choice, t.choice, t.nchoice * sizeof(*t.choice))))
            __builtin_trap();
        trace_free(&u);
        free(txt);
    }
    trace_free(&t);
    return 0;
}
