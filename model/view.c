/*
 * model/view.c - the coherent view of a machine's memory as the
 * abstraction functions read it (machine.h machine_view).
 */
#include "model/machine.h"

static uint64_t view_word(const void *arg, uint64_t pa)
{
    return cache_coherent_word(&((const struct machine *)arg)->ms.cache, pa);
}

static int view_words(const void *arg, uint64_t pa, uint64_t *out, unsigned n)
{
    return cache_read_words_coherent(&((const struct machine *)arg)->ms.cache, pa, out, NULL, n) ==
                   MEM_OK ? 0 : -1;
}

void machine_view(const struct machine *m, struct hv_mem *mm)
{
    mm->word = view_word;
    mm->words = view_words;
    mm->arg = m;
}
