/*
 * model/layers/linearize.h - which concurrent specification checks can be
 * trusted: footprints of calls in flight, and the taint rule (docs/LAYERS.md
 * "Linearization").
 *
 * A hypercall takes effect somewhere between its issue and its return (at
 * the lock that guards what it changes). A checker that captures the
 * abstract state at issue may use it as the state at that point when no
 * other call changed the footprint in between. Every change of owners,
 * counts, gfns and VM states is itself a call (fault handlers change only
 * the host's stage 2), so it is enough to know which calls overlap in
 * time: when call Y writes an item call X reads or writes and their
 * [issue, return] intervals overlap, X is "tainted" and checked no further;
 * the hypervisor's locks make the two serialisable in some order, and
 * either order is legal.
 *
 * A footprint captured at issue can miss items a concurrent call moves
 * into it (a GRANT of a gfn a concurrent DONATE maps counts the donated
 * page). Such an item is in the tainting call's footprint, so a tainted
 * call that finds what it changes in the state (LIN_INHERIT_PAGES: its
 * pages; LIN_INHERIT_SLOTS: its VM slot) inherits the tainting call's
 * written pages or slots, and the calls its larger write set reaches are
 * tainted in turn, until nothing changes (lin_open).
 *
 * Items are 64-bit keys: LIN_KEY(kind, vm, x). LIN_K_PAGE is a physical
 * page (vm 0), LIN_K_VMSTATE a VM slot's state, LIN_K_VMALL every non-page
 * item of a VM; the hypervisor's own per-VM items use LIN_K_VMITEM(0..3).
 */
#ifndef HYPSIM_LINEARIZE_H
#define HYPSIM_LINEARIZE_H

#include <stdbool.h>
#include <stdint.h>

enum { LIN_K_PAGE = 1, LIN_K_VMSTATE = 2, LIN_K_VMALL = 7 };
#define LIN_K_VMITEM(n) (3 + (n))              /* n = 0..3 */
#define LIN_KEY(k, vm, x) ((uint64_t)(k) << 60 | (uint64_t)((vm) & 0xff) << 52 | ((x) & ((1ull << 52) - 1)))
#define LIN_KEY_KIND(k)   ((unsigned)((k) >> 60))
#define LIN_KEY_VM(k)     ((unsigned)(((k) >> 52) & 0xff))

enum { LIN_INHERIT_PAGES = 1, LIN_INHERIT_SLOTS = 2 };

/* One call's (or fault's) footprint. Key storage is the owner's: rkey and
 * wkey hold cap keys each. */
struct lin_fp {
    bool live, tainted, truncated;
    bool is_fault;                 /* a fault: writes no abstract item */
    unsigned inherit;              /* LIN_INHERIT_* when tainted */
    unsigned nr, nw, cap;
    uint64_t *rkey, *wkey;
};

/* Empty the key sets (a new capture). */
void lin_reset(struct lin_fp *f);
/* Add a key read / written; past cap the footprint is truncated (a
 * truncated call counts as writing every page). */
void lin_read(struct lin_fp *f, uint64_t key);
void lin_write(struct lin_fp *f, uint64_t key);
/* Does y write something x reads or writes? */
bool lin_writes_into(const struct lin_fp *y, const struct lin_fp *x);
/* all[0..n) are every footprint slot (live or not); s (one of them) has
 * just been issued: a live call that writes what s reads or writes taints
 * s, and s taints a live call it writes into, transitively through the
 * write sets tainting widens. n <= LIN_MAX_SLOTS. */
#define LIN_MAX_SLOTS 128
void lin_open(struct lin_fp *const *all, unsigned n, struct lin_fp *s);

#endif
