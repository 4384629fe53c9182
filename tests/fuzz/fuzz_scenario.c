/*
 * tests/fuzz/fuzz_scenario.c - libFuzzer target for the scenario reader
 * (model/scenario.c): any byte string, for a machine of 1..64 CPUs (the
 * first byte), is accepted or refused with one line "fuzz:LINE: ..." or
 * "fuzz: ...", never a crash, a hang, a leak or a read past the input.
 * Accepted scenarios keep every field in range. Seeds: tests/fuzz/corpus-scenario/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hyp/hv.h"
#include "model/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scenario s;
    char err[512], *copy;
    unsigned ncpus = size ? 1 + data[0] % HV_MAX_CPUS : 4;

    copy = malloc(size ? size : 1);    /* no terminator: the length is respected */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (scenario_parse(&s, "fuzz", copy, size, ncpus, err, sizeof(err)) != 0) {
        if (strncmp(err, "fuzz:", 5) != 0 || strchr(err, '\n'))
            __builtin_trap();
        free(copy);
        return 0;
    }
    for (size_t i = 0; i < s.n; i++) {
        char d[200];
        if (s.act[i].cpu >= (int)ncpus || s.act[i].who >= (int)HV_MAX_VMS || (s.act[i].ipa & 7) ||
            s.act[i].line == 0)
            __builtin_trap();
        scenario_describe(&s.act[i], d, sizeof(d));
    }
    scenario_free(&s);
    free(copy);
    return 0;
}
