/*
 * model/inv/map.c - a small open-addressing map u64 -> u32 (table pages, snapshots).
 */
#include "model/inv/inv_int.h"

/* ---- Small open-addressing map u64 -> u32 ------------------------------ */


static uint32_t map_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (uint32_t)k;
}

bool inv_map_get(const struct u64map *mp, uint64_t k, uint32_t *v)
{
    if (mp->cap == 0)
        return false;
    for (uint32_t i = map_hash(k) & (mp->cap - 1);; i = (i + 1) & (mp->cap - 1)) {
        if (mp->key[i] == 0)
            return false;
        if (mp->key[i] == k + 1) {
            if (v)
                *v = mp->val[i];
            return true;
        }
    }
}

int inv_map_put(struct u64map *mp, uint64_t k, uint32_t v);

static int map_grow(struct u64map *mp)
{
    struct u64map nm = { 0 };
    nm.cap = mp->cap ? mp->cap * 2 : 64;
    nm.key = calloc(nm.cap, sizeof *nm.key);
    nm.val = calloc(nm.cap, sizeof *nm.val);
    if (!nm.key || !nm.val) {
        free(nm.key);
        free(nm.val);
        return -1;
    }
    for (uint32_t i = 0; i < mp->cap; i++)
        if (mp->key[i])
            inv_map_put(&nm, mp->key[i] - 1, mp->val[i]);
    free(mp->key);
    free(mp->val);
    *mp = nm;
    return 0;
}

int inv_map_put(struct u64map *mp, uint64_t k, uint32_t v)
{
    if ((mp->n + 1) * 2 > mp->cap && map_grow(mp) != 0)
        return -1;
    for (uint32_t i = map_hash(k) & (mp->cap - 1);; i = (i + 1) & (mp->cap - 1)) {
        if (mp->key[i] == k + 1) {
            mp->val[i] = v;
            return 0;
        }
        if (mp->key[i] == 0) {
            mp->key[i] = k + 1;
            mp->val[i] = v;
            mp->n++;
            return 0;
        }
    }
}

/* Linear-probing deletion by backward shift (no tombstones). */
void inv_map_del(struct u64map *mp, uint64_t k)
{
    uint32_t mask = mp->cap - 1, i, j;

    if (mp->cap == 0)
        return;
    for (i = map_hash(k) & mask;; i = (i + 1) & mask) {
        if (mp->key[i] == 0)
            return;
        if (mp->key[i] == k + 1)
            break;
    }
    mp->key[i] = 0;
    mp->n--;
    for (j = (i + 1) & mask; mp->key[j] != 0; j = (j + 1) & mask) {
        uint32_t h = map_hash(mp->key[j] - 1) & mask;
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            mp->key[i] = mp->key[j];
            mp->val[i] = mp->val[j];
            mp->key[j] = 0;
            i = j;
        }
    }
}

void inv_map_clear(struct u64map *mp)
{
    if (mp->cap)
        memset(mp->key, 0, mp->cap * sizeof *mp->key);
    mp->n = 0;
}

void inv_map_free(struct u64map *mp)
{
    free(mp->key);
    free(mp->val);
    memset(mp, 0, sizeof *mp);
}
