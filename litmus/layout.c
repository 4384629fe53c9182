/*
 * litmus/layout.c - addresses and descriptors of a litmus test's address
 * space (layout.h): the public lit_va / lit_pa / lit_pte_addr and the
 * encoding of herd's descriptor fields onto the VMSAv8-64 page descriptor.
 */
#include "litmus/layout.h"
#include "litmus/litmus.h"
#include "mmu/mmu.h"

uint64_t lit_va(unsigned loc) { return LIT_VA_BASE + ((uint64_t)loc << 12); }
uint64_t lit_pa(unsigned loc) { return LIT_PA_BASE + ((uint64_t)loc << 12); }
uint64_t lit_pte_addr(unsigned loc) { return LIT_L3_PA + 8ull * loc; }

/* herd's descriptor fields onto the VMSAv8-64 page descriptor (D8.3):
 * valid = bit 0 (bit 1 always set: a level-3 page when valid), af = AF,
 * db = dirty = NOT AP[2], dbm = DBM, el0 = AP[1]; Normal WB (AttrIndx 0),
 * Inner Shareable. */
uint64_t lit_desc_encode(unsigned oa_loc, bool valid, bool af, bool db, bool dbm, bool el0)
{
    uint64_t d = (lit_pa(oa_loc) & MMU_DESC_OA_MASK) | MMU_DESC_TABLE | MMU_SH_INNER |
                 MMU_S1_ATTRINDX(0);
    if (valid) d |= MMU_DESC_VALID;
    if (af) d |= MMU_AF;
    if (!db) d |= MMU_S1_AP_RO;
    if (dbm) d |= MMU_DBM;
    if (el0) d |= MMU_S1_AP_EL0;
    return d;
}
