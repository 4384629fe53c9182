/*
 * traces/gdbstub.c - the GDB remote-serial-protocol stub of
 * `hypsim replay --gdb` (see gdbstub.h for what it offers and how it moves
 * in time). Protocol: GDB manual, appendix "Remote Serial Protocol"
 * (packets, stop replies with thread/swbreak/watch/replaylog, bs/bc,
 * qXfer:features, qXfer:exec-file, qRcmd). Target description: the
 * standard org.gnu.gdb.aarch64.core feature plus org.hypsim.sysregs.
 *
 * Layout of this file: byte and packet helpers; the machine as gdb sees it
 * (registers, memory, monitor commands); the history and the stop checks
 * run after every replayed step; motions (continue, step, reverse, goto);
 * the packet dispatcher; the processes (front, snapshots, the active one).
 */
#define _GNU_SOURCE
#include "traces/gdbstub.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu/peek.h"
#include "hyp/hv.h"

#define PKT_MAX     16384         /* PacketSize: largest packet gdb may send */
#define POLL_EVERY  4096          /* steps between checks for ^C while running */
#define MAX_BP      64
#define MAX_WP      16
#define STOP_LEN    192
#define NOTE_LEN    512

/* ---- State shared by the processes ---------------------------------------- */

enum wp_type { WP_WRITE = 2, WP_READ = 3, WP_ACCESS = 4 };   /* Z2 / Z3 / Z4 */

struct wp {
    uint64_t addr, len;
    int type;
};

/* The debugger's state, carried from one active process to the next
 * (processes are forks of one image: a plain struct is enough). */
struct gdb_session {
    uint64_t target;                  /* position to stop at */
    uint8_t k[HV_MAX_CPUS];           /* group offsets there */
    char stop[STOP_LEN];              /* stop reply to send there ("": none) */
    char note[NOTE_LEN];              /* console text to send before it */
    unsigned nbp, nwp;
    uint64_t bp[MAX_BP];
    struct wp wp[MAX_WP];
    int gthread, cthread;             /* Hg / Hc: CPU, -1 = unset */
    bool noack, swbreak;
    unsigned last_cpu;                /* thread of the last stop */
    char last_stop[STOP_LEN];         /* for '?' */
    uint64_t stop_pos;                /* where the last stop was reported */
    unsigned stop_k;
    bool stop_valid, end_noted;
    uint8_t snap[GDBSTUB_MAX_SNAPSHOTS];  /* snapshot j exists (the front fills it) */
    unsigned npending;
    char pending[1024];               /* bytes from gdb not yet parsed */
};

enum msg_type {
    MSG_SPAWN = 1,     /* front -> snapshot: fork an active process with s */
    MSG_SPAWNED,       /* snapshot -> front: b = the active's pid */
    MSG_DIED,          /* snapshot -> front: its active b ended, a = wait status */
    MSG_SNAP,          /* active -> front: snapshot a is process b */
    MSG_GOTO,          /* active -> front: go back to s.target (the sender exits) */
    MSG_BYE,           /* active -> front: the session is over */
    MSG_FAIL,          /* any -> front: s.note says what failed */
};

struct gdb_msg {
    int type;
    int a;
    int64_t b;
    struct gdb_session s;
};

/* One replayed step, as reverse execution needs it. */
struct hist {
    uint32_t pc0;                     /* where the CPU's group started (KCore steps) */
    uint8_t cpu, kind;
    uint8_t kcore;                    /* the step ran KCore code */
    uint8_t n;                        /* instructions in that group */
};

struct acc_rec {                      /* one KCore data access */
    uint64_t step, va;
    uint8_t size, write;
};

enum motion { MOT_NONE, MOT_RUN_TO, MOT_CONT, MOT_STEP };

struct dbg {
    struct machine *m;
    const struct trace *t;
    const struct gdbstub_opts *o;
    uint64_t T, K;                    /* the trace's steps; snapshot interval */
    unsigned ncpus, nsnap;
    int fd;                           /* the gdb connection */
    int chan[GDBSTUB_MAX_SNAPSHOTS];  /* machine-side ends of the channels */
    int own;                          /* the channel of the snapshot we came from */
    struct gdb_session s;
    char in[PKT_MAX + 64];            /* bytes received from gdb */
    size_t nin;
    char pkt[PKT_MAX + 1];            /* the packet being handled */
    char out[PKT_MAX + 1];            /* a reply being built */
    bool interrupted;
    /* position: m->st.steps plus group offsets */
    uint8_t k[HV_MAX_CPUS];
    uint64_t nextpc[HV_MAX_CPUS];     /* each CPU's next group: start, mode, length */
    uint8_t nextmode[HV_MAX_CPUS], nextn[HV_MAX_CPUS];
    struct hist *h;                   /* h[s]: step s (1..T) */
    struct acc_rec *acc;
    size_t nacc, capacc;
    bool at_end;
    struct trace_replay_result rr;
    /* the motion in progress */
    enum motion mot;
    unsigned mot_cpu;
    bool mot_others;
    uint64_t since_poll;
};

/* ---- Small helpers ---------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        char *p;
        while (cap < b->n + len + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static const char hexd[] = "0123456789abcdef";

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse hex digits at *p into *v, advancing *p. Returns digits read. */
static unsigned parse_hex(const char **p, uint64_t *v)
{
    unsigned n = 0;
    *v = 0;
    while (hexval(**p) >= 0 && n < 16) {
        *v = *v << 4 | (uint64_t)hexval(**p);
        (*p)++;
        n++;
    }
    return n;
}

static void hex_bytes(char *out, const void *src, size_t n)
{
    const unsigned char *b = src;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[b[i] >> 4];
        out[2 * i + 1] = hexd[b[i] & 15];
    }
    out[2 * n] = 0;
}

static void hex_le(char *out, uint64_t v, unsigned bytes)
{
    unsigned char b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    hex_bytes(out, b, bytes);
}

static const char *mode_name(const struct cpu *c, char *buf, size_t n)
{
    switch (c->mode) {
    case CPU_KCORE: return "KCore (EL2)";
    case CPU_HOST: return "host (EL1)";
    case CPU_GUEST: snprintf(buf, n, "VM %u (EL1)", c->guest_vm); return buf;
    case CPU_WFE: return "KCore, waiting in WFE";
    default:
        snprintf(buf, n, "halted: %s at 0x%" PRIx64, trap_name(c->trap.kind), c->trap.pc);
        return buf;
    }
}

/* ---- Talking to gdb ------------------------------------------------------------ */

static void logpkt(struct dbg *d, const char *dir, const char *p, size_t n)
{
    if (d->o->log_packets && d->o->msg)
        fprintf(d->o->msg, "gdb %s %.*s\n", dir, (int)(n > 300 ? 300 : n), p);
}

static int send_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read what is available (waiting up to timeout_ms; -1: forever). Returns
 * 1 when bytes arrived, 0 on timeout, -1 when gdb went away. Also watches
 * our channel: the front gone means the session is over. */
static int rx_fill(struct dbg *d, int timeout_ms)
{
    struct pollfd pf[2] = { { d->fd, POLLIN, 0 }, { d->chan[d->own], POLLIN, 0 } };
    ssize_t r;
    int n;

    if (d->nin >= sizeof(d->in) - 1)
        d->nin = 0;                            /* garbage: drop it */
    n = poll(pf, 2, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    if (n == 0)
        return 0;
    if (pf[1].revents & (POLLHUP | POLLERR))
        return -1;
    if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
        return 0;
    r = recv(d->fd, d->in + d->nin, sizeof(d->in) - 1 - d->nin, 0);
    if (r <= 0)
        return -1;
    d->nin += (size_t)r;
    return 1;
}

static void rx_drop(struct dbg *d, size_t n)
{
    memmove(d->in, d->in + n, d->nin - n);
    d->nin -= n;
}

/* Take one packet from the buffer into pkt (NUL-terminated). Returns its
 * length, -1 when no whole packet is there yet. Acks and ^C are consumed
 * on the way (^C sets d->interrupted). */
static long rx_take(struct dbg *d, char *pkt, size_t cap)
{
    for (;;) {
        size_t i = 0, hash;
        while (i < d->nin && d->in[i] != '$') {
            if (d->in[i] == 0x03)
                d->interrupted = true;
            i++;
        }
        rx_drop(d, i);
        if (d->nin == 0)
            return -1;
        for (hash = 1; hash < d->nin && d->in[hash] != '#'; hash++)
            ;
        if (hash + 2 >= d->nin)
            return -1;
        {
            unsigned sum = 0, want = (unsigned)(hexval(d->in[hash + 1]) << 4 | hexval(d->in[hash + 2]));
            size_t len = hash - 1;
            for (size_t j = 1; j < hash; j++)
                sum += (unsigned char)d->in[j];
            if ((sum & 0xff) != want && !d->s.noack) {
                send_all(d->fd, "-", 1);
                rx_drop(d, hash + 3);
                continue;
            }
            if (len >= cap)
                len = cap - 1;
            memcpy(pkt, d->in + 1, len);
            pkt[len] = 0;
            rx_drop(d, hash + 3);
            if (!d->s.noack)
                send_all(d->fd, "+", 1);
            logpkt(d, "<-", pkt, len);
            return (long)len;
        }
    }
}

/* Send one packet; without QStartNoAckMode, wait for gdb's '+'. */
static int tx(struct dbg *d, const char *data, size_t len)
{
    char head = '$', tail[3];
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += (unsigned char)data[i];
    tail[0] = '#';
    tail[1] = hexd[(sum >> 4) & 15];
    tail[2] = hexd[sum & 15];
    logpkt(d, "->", data, len);
    for (int tries = 0; tries < 3; tries++) {
        if (send_all(d->fd, &head, 1) || send_all(d->fd, data, len) || send_all(d->fd, tail, 3))
            return -1;
        if (d->s.noack)
            return 0;
        for (;;) {
            size_t i = 0;
            while (i < d->nin && d->in[i] == 0x03) {
                d->interrupted = true;
                i++;
            }
            rx_drop(d, i);
            if (d->nin) {
                char c = d->in[0];
                if (c == '+') {
                    rx_drop(d, 1);
                    return 0;
                }
                if (c == '-') {
                    rx_drop(d, 1);
                    break;                    /* resend */
                }
                return 0;                     /* a packet: take it as acked */
            }
            if (rx_fill(d, 5000) <= 0)
                return 0;
        }
    }
    return 0;
}

static int tx_str(struct dbg *d, const char *s)
{
    return tx(d, s, strlen(s));
}

/* Console text: O packets (hex), at most 512 bytes of text each. */
static void tx_console(struct dbg *d, const char *text, size_t n)
{
    char pkt[2 + 2 * 512 + 1];
    while (n) {
        size_t c = n > 512 ? 512 : n;
        pkt[0] = 'O';
        hex_bytes(pkt + 1, text, c);
        tx(d, pkt, 1 + 2 * c);
        text += c;
        n -= c;
    }
}

/* A binary qXfer chunk of doc[off, off+len): 'm'/'l' + escaped bytes. */
static void tx_xfer(struct dbg *d, const char *doc, size_t doclen, uint64_t off, uint64_t len)
{
    struct sbuf b = { 0 };
    size_t end;
    if (off > doclen)
        off = doclen;
    end = len > doclen - off ? doclen : off + len;
    sb_add(&b, end < doclen ? "m" : "l", 1);
    for (size_t i = off; i < end; i++) {
        char c = doc[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            char e[2] = { '}', (char)(c ^ 0x20) };
            sb_add(&b, e, 2);
        } else {
            sb_add(&b, &c, 1);
        }
    }
    if (b.oom)
        tx_str(d, "E0c");
    else
        tx(d, b.p, b.n);
    free(b.p);
}

/* ---- The machine as gdb sees it -------------------------------------------------- */

static const enum sysreg gdb_sysregs[] = {
    SR_SCTLR_EL2, SR_HCR_EL2, SR_TTBR0_EL2, SR_TCR_EL2, SR_MAIR_EL2, SR_VTTBR_EL2,
    SR_VTCR_EL2, SR_ESR_EL2, SR_ELR_EL2, SR_SPSR_EL2, SR_FAR_EL2, SR_HPFAR_EL2,
    SR_VBAR_EL2, SR_TPIDR_EL2, SR_MPIDR_EL1,
};
#define NSYSREGS (sizeof(gdb_sysregs) / sizeof(gdb_sysregs[0]))
#define REG_SP   31
#define REG_PC   32
#define REG_CPSR 33
#define REG_SYS0 34
#define NREGS    (REG_SYS0 + NSYSREGS)

static void build_target_xml(struct sbuf *b)
{
    static const char *const cpsr_fields[][3] = {
        { "SP", "0", "0" }, { "EL", "2", "3" }, { "nRW", "4", "4" }, { "F", "6", "6" },
        { "I", "7", "7" }, { "A", "8", "8" }, { "D", "9", "9" }, { "V", "28", "28" },
        { "C", "29", "29" }, { "Z", "30", "30" }, { "N", "31", "31" },
    };
    sb_printf(b, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                 "<target version=\"1.0\">\n<architecture>aarch64</architecture>\n"
                 "<feature name=\"org.gnu.gdb.aarch64.core\">\n<flags id=\"cpsr_flags\" size=\"4\">\n");
    for (size_t i = 0; i < sizeof(cpsr_fields) / sizeof(cpsr_fields[0]); i++)
        sb_printf(b, "<field name=\"%s\" start=\"%s\" end=\"%s\"/>\n", cpsr_fields[i][0],
                  cpsr_fields[i][1], cpsr_fields[i][2]);
    sb_printf(b, "</flags>\n");
    for (unsigned r = 0; r < 31; r++)
        sb_printf(b, "<reg name=\"x%u\" bitsize=\"64\" type=\"int\" regnum=\"%u\"/>\n", r, r);
    sb_printf(b, "<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\" regnum=\"%d\"/>\n"
                 "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"%d\"/>\n"
                 "<reg name=\"cpsr\" bitsize=\"32\" type=\"cpsr_flags\" regnum=\"%d\"/>\n"
                 "</feature>\n<feature name=\"org.hypsim.sysregs\">\n",
              REG_SP, REG_PC, REG_CPSR);
    for (unsigned i = 0; i < NSYSREGS; i++) {
        char name[32];
        const char *n = sysreg_name(gdb_sysregs[i]);
        size_t j;
        for (j = 0; n[j] && j < sizeof(name) - 1; j++)
            name[j] = (char)(n[j] >= 'A' && n[j] <= 'Z' ? n[j] - 'A' + 'a' : n[j]);
        name[j] = 0;
        sb_printf(b, "<reg name=\"%s\" bitsize=\"64\" type=\"uint64\" group=\"system\" regnum=\"%u\"/>\n",
                  name, (unsigned)(REG_SYS0 + i));
    }
    sb_printf(b, "</feature>\n</target>\n");
}

/* Registers of CPU i at the current position (its group offset included).
 * A CPU running the host or a guest shows where EL1 resumes (the ELR of the
 * ERET) and EL1h; its x registers are what the principal holds. */
static void thread_regs(const struct dbg *d, unsigned i, struct cpu_regs *r)
{
    const struct cpu *c = &d->m->cpu[i];
    if (c->mode == CPU_KCORE && d->k[i] > 0)
        cpu_peek_regs(c, d->k[i], r);
    else
        cpu_read_regs(c, r);
    if (c->mode == CPU_HOST || c->mode == CPU_GUEST) {
        r->pc = c->eret_elr;
        r->pstate = 0x3c5;
    } else if (c->mode == CPU_HALTED && c->trap.kind != TRAP_NONE) {
        r->pc = c->trap.pc;
    }
}

/* Register n of CPU i as gdb's hex, into out (17 bytes). Returns 0, -1. */
static int reg_hex(const struct dbg *d, unsigned i, unsigned n, const struct cpu_regs *r, char *out)
{
    if (n < 31)
        hex_le(out, r->x[n], 8);
    else if (n == REG_SP)
        hex_le(out, r->sp, 8);
    else if (n == REG_PC)
        hex_le(out, r->pc, 8);
    else if (n == REG_CPSR)
        hex_le(out, r->pstate, 4);
    else if (n < NREGS)
        hex_le(out, d->m->cpu[i].sr[gdb_sysregs[n - REG_SYS0]], 8);
    else
        return -1;
    return 0;
}

/* Descriptor reads for a debugger's walk: the coherent view for cacheable
 * walks, memory for non-cacheable ones, as the walker would see them;
 * nothing is filled, evicted or written. */
static int ro_read_desc(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    const struct msys *ms = arg;
    label_t l;
    if (cacheable)
        return cache_read_coherent(&ms->cache, pa, 8, desc, &l) != MEM_OK;
    return mem_read(&ms->mem, pa, 8, desc, &l) != MEM_OK;
}

static int ro_read_coherent(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    const struct msys *ms = arg;
    label_t l;
    (void)cacheable;
    return cache_read_coherent(&ms->cache, pa, 8, desc, &l) != MEM_OK;
}

/* The EL2 TLB entry of CPU i that translates va, or NULL (read-only
 * counterpart of tlb_lookup_el2: the LRU clock is not touched). */
static const struct tlb_entry *tlb_el2_entry(const struct dbg *d, unsigned i, uint64_t va)
{
    const struct tlb *t = &d->m->ms.tlb.cpu[i];
    for (unsigned e = 0; e < t->cap; e++) {
        const struct tlb_entry *x = &t->e[e];
        uint64_t mask = x->shift >= 64 ? 0 : ~((1ull << x->shift) - 1);
        if (x->valid && x->regime == MMU_REGIME_EL2 && x->kind == TLB_KIND_S1 &&
            (va & mask) == x->in_base)
            return x;
    }
    return NULL;
}

/* va as KCore on CPU i would translate it now: its TLB entry, else a walk
 * of its EL2 stage 1. Returns 0 (pa, cacheability, whether from the TLB),
 * or -1 with *f for a walk that faults. */
static int el2_translate(const struct dbg *d, unsigned i, uint64_t va, uint64_t *pa, bool *cacheable,
                         bool *tlb, struct mmu_fault *f)
{
    const struct cpu *c = &d->m->cpu[i];
    const struct tlb_entry *e = tlb_el2_entry(d, i, va);
    struct mmu_ctx ctx;
    struct mmu_result r;

    if (e) {
        uint64_t sz = e->shift >= 64 ? ~0ull : (1ull << e->shift) - 1;
        *pa = (e->r.pa & ~sz) | (va & sz);
        *cacheable = e->r.attrs.cacheable;
        *tlb = true;
        return 0;
    }
    ctx = c->el2;
    ctx.ops.read_desc = ro_read_desc;
    ctx.ops.write_desc = NULL;
    ctx.ops.arg = (void *)&d->m->ms;
    if (mmu_translate(&ctx, va, MMU_ACC_READ, false, &r, f) != 0)
        return -1;
    *pa = r.pa;
    *cacheable = r.attrs.cacheable;
    *tlb = false;
    return 0;
}

/* A byte as KCore would read it: coherent view (cacheable) or memory. */
static int read_byte(const struct msys *ms, uint64_t pa, bool cacheable, uint8_t *out)
{
    uint64_t v;
    label_t l;
    int rc = cacheable ? cache_read_coherent(&ms->cache, pa, 1, &v, &l) : mem_read(&ms->mem, pa, 1, &v, &l);
    *out = (uint8_t)v;
    return rc;
}

/* 'm addr,len' for CPU i: the bytes read before the first untranslatable
 * one (gdb accepts a short read); 0 bytes is an error. */
static void reply_mem(struct dbg *d, unsigned i, uint64_t addr, uint64_t len)
{
    char *out = d->out;
    size_t n = 0;
    if (len > PKT_MAX / 2 - 8)
        len = PKT_MAX / 2 - 8;
    while (n < len) {
        uint64_t va = addr + n, pa;
        bool cach, tlb;
        struct mmu_fault f;
        uint8_t b;
        if (el2_translate(d, i, va, &pa, &cach, &tlb, &f) != 0 || read_byte(&d->m->ms, pa, cach, &b) != MEM_OK)
            break;
        out[2 * n] = hexd[b >> 4];
        out[2 * n + 1] = hexd[b & 15];
        n++;
    }
    out[2 * n] = 0;
    tx_str(d, n ? out : "E14");
}

/* ---- Monitor commands ---------------------------------------------------------- */

static unsigned cur_cpu(const struct dbg *d)
{
    return d->s.gthread >= 0 ? (unsigned)d->s.gthread : d->s.last_cpu;
}

static const char *tlb_kind_name(unsigned k)
{
    return k == TLB_KIND_S1 ? "S1" : k == TLB_KIND_S12 ? "S1+2" : "S2";
}

static void perm_str(uint8_t p, char *b)
{
    b[0] = p & MMU_P_R ? 'r' : '-';
    b[1] = p & MMU_P_W ? 'w' : '-';
    b[2] = p & MMU_P_X ? 'x' : '-';
    b[3] = 0;
}

static void mon_tlb(struct dbg *d, struct sbuf *o, unsigned cpu)
{
    const struct tlb *t = &d->m->ms.tlb.cpu[cpu];
    unsigned shown = 0;
    sb_printf(o, "TLB of CPU %u: %u of %u entries valid\n", cpu, t->used, t->cap);
    for (unsigned i = 0; i < t->cap; i++) {
        const struct tlb_entry *e = &t->e[i];
        char p1[4], p2[4], tag[48];
        uint64_t size = e->shift >= 64 ? 0 : 1ull << e->shift;
        if (!e->valid)
            continue;
        perm_str(e->r.s1_perms, p1);
        perm_str(e->r.s2_perms, p2);
        if (e->regime == MMU_REGIME_EL2)
            snprintf(tag, sizeof(tag), "EL2");
        else if (e->global || e->kind == TLB_KIND_S2)
            snprintf(tag, sizeof(tag), "EL1&0 VMID %u", e->vmid);
        else
            snprintf(tag, sizeof(tag), "EL1&0 VMID %u ASID %u", e->vmid, e->asid);
        sb_printf(o, "  [%2u] %-4s %-22s in 0x%09" PRIx64 " +0x%-7" PRIx64 " -> pa 0x%09" PRIx64
                     " s1 %s s2 %s %s%s\n",
                  i, tlb_kind_name(e->kind), tag, e->in_base, size,
                  (e->r.pa & ~(size - 1)), p1, p2, e->r.attrs.cacheable ? "cacheable" : "non-cacheable",
                  tlb_sys_entry_doomed(&d->m->ms.tlb, cpu, e) ? " (a pending TLBI will remove it)" : "");
        shown++;
    }
    if (!shown)
        sb_printf(o, "  (empty)\n");
}

static void mon_cache(struct dbg *d, struct sbuf *o, uint64_t pa)
{
    const struct cache_line *l = cache_find(&d->m->ms.cache, pa);
    uint64_t base = pa & ~(uint64_t)(CACHE_LINE_SIZE - 1);
    char lb[16], lb2[16];
    if (!l) {
        sb_printf(o, "PA 0x%" PRIx64 ": no cache line (line 0x%" PRIx64 " is not cached)\n", pa, base);
        return;
    }
    sb_printf(o, "cache line 0x%" PRIx64 ": valid, %s\n", l->pa, l->dirty ? "dirty" : "clean");
    for (unsigned w = 0; w < CACHE_LINE_WORDS; w++) {
        uint64_t mv = 0;
        label_t ml = 0;
        mem_read_word(&d->m->ms.mem, l->pa + 8 * w, &mv, &ml);
        sb_printf(o, "  0x%09" PRIx64 ": 0x%016" PRIx64 " [%s]", l->pa + 8 * w, l->word[w],
                  hv_label_name(d->m->hv, l->label[w], lb, sizeof(lb)));
        if (mv != l->word[w] || ml != l->label[w])
            sb_printf(o, "   memory: 0x%016" PRIx64 " [%s]", mv, hv_label_name(d->m->hv, ml, lb2, sizeof(lb2)));
        sb_printf(o, "\n");
    }
}

static void mon_pa(struct dbg *d, struct sbuf *o, uint64_t pa, uint64_t len)
{
    char lb[16], lb2[16];
    pa &= ~7ull;
    if (len == 0)
        len = 64;
    if (len > 4096)
        len = 4096;
    sb_printf(o, "physical memory from 0x%" PRIx64 " (coherent view [label]; memory where it differs)\n", pa);
    for (uint64_t a = pa; a < pa + len; a += 8) {
        uint64_t cv, mv;
        label_t cl, ml;
        if (cache_read_coherent(&d->m->ms.cache, a, 8, &cv, &cl) != MEM_OK ||
            mem_read(&d->m->ms.mem, a, 8, &mv, &ml) != MEM_OK) {
            sb_printf(o, "  0x%09" PRIx64 ": outside memory\n", a);
            break;
        }
        sb_printf(o, "  0x%09" PRIx64 ": 0x%016" PRIx64 " [%s]", a, cv, hv_label_name(d->m->hv, cl, lb, sizeof(lb)));
        if (cv != mv || cl != ml)
            sb_printf(o, "   memory: 0x%016" PRIx64 " [%s] (under a dirty line)", mv,
                      hv_label_name(d->m->hv, ml, lb2, sizeof(lb2)));
        sb_printf(o, "\n");
    }
}

struct s2_find {
    uint64_t pa;
    struct sbuf *o;
    const char *who;
    unsigned hits;
};

static int s2_find_visit(const struct mmu_visit *v, void *arg)
{
    struct s2_find *f = arg;
    uint64_t size = 1ull << v->shift, oa = mmu_desc_oa(v->desc) & ~(size - 1);
    if (!v->leaf || f->pa < oa || f->pa >= oa + size)
        return 0;
    if (f->hits++ < 8)
        sb_printf(f->o, "  mapped by %s's stage 2 at IPA 0x%" PRIx64 " (level %d, %s%s)\n", f->who,
                  v->in_addr + (f->pa - oa), v->level, v->desc & MMU_S2AP_R ? "r" : "-",
                  v->desc & MMU_S2AP_W ? "w" : "-");
    return 0;
}

static void mon_page(struct dbg *d, struct sbuf *o, uint64_t pa)
{
    const struct msys *ms = &d->m->ms;
    uint64_t pfn = pa >> MEM_PAGE_SHIFT, base = pfn << MEM_PAGE_SHIFT, e = 0, me = 0;
    unsigned nl[3 + HV_MAX_VMS] = { 0 }, nml[3 + HV_MAX_VMS] = { 0 };
    char ob[16], lb[16];
    struct mmu_mem_ops ops = { ro_read_coherent, NULL, (void *)ms };
    struct mmu_geom g;
    uint64_t vtcr = d->m->cpu[0].sr[SR_VTCR_EL2];
    label_t l;

    if (!mem_in_range(&ms->mem, base, MEM_PAGE_SIZE)) {
        sb_printf(o, "PA 0x%" PRIx64 ": outside memory (%" PRIu64 " MiB)\n", pa, ms->mem.size >> 20);
        return;
    }
    const struct hv_ops *hv = d->m->hv;
    uint64_t epa = hv->layout.own_base + 8 * pfn;
    struct hv_page hp = { HV_OWNER_NONE, 0, 0 };
    struct hv_mem mm;
    machine_view(d->m, &mm);
    hv_page(hv, &mm, pfn, &hp);
    cache_read_coherent(&ms->cache, epa, 8, &e, &l);
    mem_read(&ms->mem, epa, 8, &me, &l);
    sb_printf(o, "page 0x%" PRIx64 " (pfn 0x%" PRIx64 "): owner %s, share count %u, gfn 0x%llx "
                 "(%s's ownership array, entry at 0x%llx%s)\n",
              base, pfn, hv_owner_name(hv, hp.owner, ob, sizeof(ob)), hp.count,
              (unsigned long long)hp.gfn, hv->label_name, (unsigned long long)epa,
              e != me ? "; memory holds an older value under a dirty line" : "");
    for (uint64_t a = base; a < base + MEM_PAGE_SIZE; a += 8) {
        uint64_t v;
        label_t cl = 0, ml = 0;
        cache_read_coherent(&ms->cache, a, 8, &v, &cl);
        mem_read(&ms->mem, a, 8, &v, &ml);
        nl[cl < 3 + HV_MAX_VMS ? cl : 0]++;
        nml[ml < 3 + HV_MAX_VMS ? ml : 0]++;
    }
    sb_printf(o, "  labels of its 512 words (coherent view / memory):");
    for (unsigned i = 0; i < 3 + HV_MAX_VMS; i++)
        if (nl[i] || nml[i])
            sb_printf(o, " %s %u/%u", hv_label_name(d->m->hv, (label_t)i, lb, sizeof(lb)), nl[i], nml[i]);
    sb_printf(o, "\n");
    if (vtcr && mmu_s2_geom(vtcr, &g) == 0) {
        struct s2_find f = { base, o, "the host", 0 };
        uint64_t vttbr = 0;
        char who[16];
        vttbr = hv->root(&mm, HV_SLOT_HOST);
        if (vttbr)
            mmu_walk_tables(&ops, 2, MMU_TTBR_BADDR(vttbr), &g, s2_find_visit, &f);
        for (unsigned vm = 0; vm < HV_MAX_VMS; vm++) {
            vttbr = 0;
            vttbr = hv->root(&mm, HV_SLOT_VM(vm));
            if (!vttbr)
                continue;
            snprintf(who, sizeof(who), "VM %u", vm);
            f.who = who;
            mmu_walk_tables(&ops, 2, MMU_TTBR_BADDR(vttbr), &g, s2_find_visit, &f);
        }
        if (!f.hits)
            sb_printf(o, "  mapped in no published stage-2 table\n");
    }
    for (unsigned c = 0; c < d->ncpus; c++) {
        const struct tlb *t = &ms->tlb.cpu[c];
        for (unsigned i = 0; i < t->cap; i++) {
            const struct tlb_entry *x = &t->e[i];
            uint64_t size = x->shift >= 64 ? ~0ull : 1ull << x->shift, oa = x->r.pa & ~(size - 1);
            if (x->valid && base >= oa && base < oa + size)
                sb_printf(o, "  in the TLB of CPU %u: entry %u (%s, %s VMID %u, in 0x%" PRIx64 ")\n", c, i,
                          tlb_kind_name(x->kind), x->regime == MMU_REGIME_EL2 ? "EL2" : "EL1&0", x->vmid,
                          x->in_base);
        }
    }
}

static void mon_translate(struct dbg *d, struct sbuf *o, unsigned cpu, uint64_t va)
{
    const struct tlb_entry *e = tlb_el2_entry(d, cpu, va);
    struct mmu_ctx ctx = d->m->cpu[cpu].el2;
    struct mmu_result r;
    struct mmu_fault f;
    if (e)
        sb_printf(o, "VA 0x%" PRIx64 " on CPU %u: TLB entry (in 0x%" PRIx64 ") -> PA 0x%" PRIx64 "\n", va, cpu,
                  e->in_base, (uint64_t)((e->r.pa & ~((1ull << e->shift) - 1)) | (va & ((1ull << e->shift) - 1))));
    else
        sb_printf(o, "VA 0x%" PRIx64 " on CPU %u: no TLB entry\n", va, cpu);
    ctx.ops.read_desc = ro_read_desc;
    ctx.ops.write_desc = NULL;
    ctx.ops.arg = (void *)&d->m->ms;
    if (mmu_translate(&ctx, va, MMU_ACC_READ, false, &r, &f) == 0)
        sb_printf(o, "  walk of EL2 stage 1 (MMU %s): PA 0x%" PRIx64 ", level %u, %s\n",
                  ctx.s1.m ? "on" : "off", r.pa, r.s1_level, r.attrs.cacheable ? "cacheable" : "non-cacheable");
    else
        sb_printf(o, "  walk of EL2 stage 1: fault type %d at level %d\n", f.type, f.level);
}

static void mon_where(struct dbg *d, struct sbuf *o)
{
    sb_printf(o, "step %" PRIu64 " of %" PRIu64 "%s\n", d->m->st.steps, d->T, d->at_end ? " (end of the trace)" : "");
    for (unsigned i = 0; i < d->ncpus; i++) {
        const struct cpu *c = &d->m->cpu[i];
        char mb[96], dis[64];
        struct cpu_regs r;
        thread_regs(d, i, &r);
        sb_printf(o, "  thread %u = CPU %u: %s, pc 0x%" PRIx64, i + 1, i, mode_name(c, mb, sizeof(mb)), r.pc);
        if (c->mode == CPU_KCORE) {
            cpu_disasm(c, r.pc, dis, sizeof(dis));
            sb_printf(o, " (%s; instruction %u of the %u its next step runs)", dis, d->k[i] + 1, d->nextn[i]);
        }
        sb_printf(o, "\n");
    }
}

static void mon_violation(struct dbg *d, struct sbuf *o)
{
    const struct trace *t = d->t;
    if (!t->violation) {
        sb_printf(o, "the trace ends without a violation after %" PRIu64 " steps\n", t->steps);
        return;
    }
    sb_printf(o, "the trace ends at step %" PRIu64 ": violation of invariant %d (CPU %d): %s\n", t->viol.step + 1,
              t->viol.invariant, t->viol.cpu, t->viol.detail);
    if (t->viol.insn[0])
        sb_printf(o, "  KCore instruction: %s\n", t->viol.insn);
    sb_printf(o, "  (use 'monitor goto %" PRIu64 "' to go to the state just before that step)\n", t->viol.step);
}

static void mon_pending(struct dbg *d, struct sbuf *o)
{
    const struct tlb_system *s = &d->m->ms.tlb;
    sb_printf(o, "%u TLB invalidations pending\n", s->npending);
    for (unsigned i = 0; i < s->npending; i++)
        sb_printf(o, "  TLBI %s (VMID %u, addr 0x%" PRIx64 ") issued by CPU %u, pending on CPU %u\n",
                  tlbi_name(&s->pending[i].op), s->pending[i].op.vmid, s->pending[i].op.addr,
                  s->pending[i].issuer, s->pending[i].target);
}

static bool travel(struct dbg *d, uint64_t target, const uint8_t *k, const char *stop, const char *note);

/* 'qRcmd': the output goes back as console text. Returns true when the
 * command set a motion (goto forward) that the caller must start. */
static bool monitor(struct dbg *d, const char *cmd)
{
    struct sbuf o = { 0 };
    char w[32] = "";
    uint64_t a = 0, b = 0;
    const char *p = cmd;
    int n = 0;
    char *end;

    sscanf(p, "%31s%n", w, &n);
    p += n;
    while (*p == ' ')
        p++;
    a = strtoull(p, &end, 0);
    bool has_a = end != p;
    b = strtoull(end, NULL, 0);
    if (!strcmp(w, "") || !strcmp(w, "help")) {
        sb_printf(&o, "hypsim monitor commands (numbers decimal or 0x...):\n"
                      "  where              the step, and each CPU's mode and PC\n"
                      "  tlb [CPU]          the TLB entries of a CPU (default: the current thread's)\n"
                      "  pending            pending TLB invalidations\n"
                      "  cache PA           the cache line holding PA, against memory\n"
                      "  page PA            a page's owner, share count, labels, stage-2 mappings, TLB entries\n"
                      "  pa PA [LEN]        physical memory (coherent view and memory, with labels)\n"
                      "  translate VA       KCore's EL2 translation of VA on the current thread's CPU\n"
                      "  goto STEP          go to the state after STEP machine steps (forward or back)\n"
                      "  violation          the trace's outcome\n"
                      "  snapshots          the forked snapshots kept for reverse execution\n");
    } else if (!strcmp(w, "where") || !strcmp(w, "step")) {
        mon_where(d, &o);
    } else if (!strcmp(w, "tlb")) {
        unsigned c = has_a ? (unsigned)a : cur_cpu(d);
        if (c >= d->ncpus)
            sb_printf(&o, "no CPU %u (%u CPUs)\n", c, d->ncpus);
        else
            mon_tlb(d, &o, c);
    } else if (!strcmp(w, "pending")) {
        mon_pending(d, &o);
    } else if (!strcmp(w, "cache") && has_a) {
        mon_cache(d, &o, a);
    } else if (!strcmp(w, "page") && has_a) {
        mon_page(d, &o, a);
    } else if (!strcmp(w, "pa") && has_a) {
        mon_pa(d, &o, a, b);
    } else if (!strcmp(w, "translate") && has_a) {
        mon_translate(d, &o, cur_cpu(d), a);
    } else if (!strcmp(w, "violation")) {
        mon_violation(d, &o);
    } else if (!strcmp(w, "snapshots")) {
        sb_printf(&o, "a snapshot every %" PRIu64 " steps; kept at steps:", d->K);
        for (unsigned j = 0; j < d->nsnap; j++)
            if (d->s.snap[j])
                sb_printf(&o, " %" PRIu64, (uint64_t)j * d->K);
        sb_printf(&o, "\n");
    } else if (!strcmp(w, "goto") && has_a) {
        uint8_t k[HV_MAX_CPUS] = { 0 };
        char stop[STOP_LEN];
        if (a > d->T || (d->at_end && a > d->m->st.steps)) {
            sb_printf(&o, "step %" PRIu64 " is past the end of the trace (%" PRIu64 " steps)\n", a,
                      d->at_end ? d->m->st.steps : d->T);
        } else {
            snprintf(stop, sizeof(stop), "T05thread:%x;", d->s.last_cpu + 1);
            sb_printf(&o, "going to step %" PRIu64 "\n", a);
            tx_console(d, o.p, o.n);
            free(o.p);
            tx_str(d, "OK");
            /* gdb expects no stop reply after qRcmd: the stop is only
             * recorded for '?' (and gdb's register cache must be flushed). */
            memcpy(d->s.last_stop, stop, sizeof(stop));
            return travel(d, a, k, "", NULL);
        }
    } else {
        sb_printf(&o, "unknown monitor command '%s' (monitor help)\n", cmd);
    }
    if (o.oom)
        tx_str(d, "E0c");
    else {
        if (o.n)
            tx_console(d, o.p, o.n);
        tx_str(d, "OK");
    }
    free(o.p);
    return false;
}

/* ---- History, stops and motions -------------------------------------------------- */

static void msg_send(struct dbg *d, int type, int a, int64_t b)
{
    struct gdb_msg *g = calloc(1, sizeof(*g));
    if (!g)
        return;
    g->type = type;
    g->a = a;
    g->b = b;
    g->s = d->s;
    while (send(d->chan[d->own], g, sizeof(*g), MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
    free(g);
}

static _Noreturn void bye(struct dbg *d, int rc)
{
    msg_send(d, MSG_BYE, rc, 0);
    _exit(0);
}

static bool is_bp(const struct dbg *d, uint64_t pc)
{
    for (unsigned i = 0; i < d->s.nbp; i++)
        if (d->s.bp[i] == pc)
            return true;
    return false;
}

/* The watchpoint an access hits, or NULL. */
static const struct wp *wp_hit(const struct dbg *d, uint64_t va, unsigned size, bool write, uint64_t *addr)
{
    for (unsigned i = 0; i < d->s.nwp; i++) {
        const struct wp *w = &d->s.wp[i];
        if ((w->type == WP_WRITE && !write) || (w->type == WP_READ && write))
            continue;
        if (va < w->addr + w->len && w->addr < va + size) {
            *addr = va > w->addr ? va : w->addr;
            return w;
        }
    }
    return NULL;
}

static void fmt_stop(char *out, int sig, unsigned cpu, const char *extra)
{
    snprintf(out, STOP_LEN, "T%02xthread:%x;%s", sig, cpu + 1, extra ? extra : "");
}

static void fmt_watch(const struct dbg *d, char *out, unsigned cpu, const struct wp *w, uint64_t addr)
{
    char x[64];
    (void)d;
    snprintf(x, sizeof(x), "%swatch:%" PRIx64 ";", w->type == WP_READ ? "r" : w->type == WP_ACCESS ? "a" : "", addr);
    fmt_stop(out, 5, cpu, x);
}

static void fmt_bp(const struct dbg *d, char *out, unsigned cpu)
{
    fmt_stop(out, 5, cpu, d->s.swbreak ? "swbreak:;" : "");
}

/* Report a stop at the current position. */
static void report(struct dbg *d, const char *stop, const char *note)
{
    unsigned cpu;
    const char *t = strstr(stop, "thread:");
    cpu = t ? (unsigned)strtoul(t + 7, NULL, 16) - 1 : d->s.last_cpu;
    if (cpu >= d->ncpus)
        cpu = 0;
    if (note && note[0])
        tx_console(d, note, strlen(note));
    snprintf(d->s.last_stop, sizeof(d->s.last_stop), "%s", stop);
    d->s.last_cpu = cpu;
    d->s.stop_pos = d->m->st.steps;
    d->s.stop_k = d->k[cpu];
    d->s.stop_valid = true;
    tx_str(d, stop);
}

/* Go to position (target, k) and report stop there (if non-empty). Forward:
 * set the motion (returns true: the caller lets the replay run). Here:
 * report now. Back: hand the session to a process forked from the nearest
 * snapshot at or before target, through the front, and end this one. */
static bool travel(struct dbg *d, uint64_t target, const uint8_t *k, const char *stop, const char *note)
{
    uint64_t p = d->m->st.steps;
    memcpy(d->s.k, k, sizeof(d->s.k));
    snprintf(d->s.stop, sizeof(d->s.stop), "%s", stop ? stop : "");
    snprintf(d->s.note, sizeof(d->s.note), "%s", note ? note : "");
    d->s.target = target;
    if (target == p) {
        memcpy(d->k, k, sizeof(d->k));
        if (stop && stop[0])
            report(d, stop, note);
        return false;
    }
    if (target > p) {
        d->mot = MOT_RUN_TO;
        return true;
    }
    /* backwards: what gdb sent after the packet being answered goes along */
    d->s.npending = d->nin < sizeof(d->s.pending) ? (unsigned)d->nin : (unsigned)sizeof(d->s.pending);
    memcpy(d->s.pending, d->in, d->s.npending);
    msg_send(d, MSG_GOTO, 0, 0);
    _exit(0);
}

/* After a step: the next groups of every CPU, and which changed. */
static uint64_t refresh_next(struct dbg *d, int stepped)
{
    uint64_t changed = 0;
    for (unsigned i = 0; i < d->ncpus; i++) {
        const struct cpu *c = &d->m->cpu[i];
        if ((int)i == stepped || c->pc != d->nextpc[i] || c->mode != d->nextmode[i]) {
            changed |= 1ull << i;
            d->k[i] = 0;
        }
        d->nextpc[i] = c->pc;
        d->nextmode[i] = (uint8_t)c->mode;
        d->nextn[i] = (uint8_t)cpu_group_len(c);
    }
    return changed;
}

/* A breakpoint in CPU i's next group at offset >= from: the offset, or -1. */
static int group_bp(const struct dbg *d, unsigned i, unsigned from)
{
    if (d->nextmode[i] != CPU_KCORE)
        return -1;
    for (unsigned j = from; j < d->nextn[i]; j++)
        if (is_bp(d, d->nextpc[i] + 4ull * j))
            return (int)j;
    return -1;
}

static void push_acc(struct dbg *d, uint64_t step, const struct msys_access *a)
{
    if (d->nacc == d->capacc) {
        size_t cap = d->capacc ? 2 * d->capacc : 4096;
        struct acc_rec *n = realloc(d->acc, cap * sizeof(*n));
        if (!n)
            return;                            /* history without it: watchpoints may miss */
        d->acc = n;
        d->capacc = cap;
    }
    d->acc[d->nacc].step = step;
    d->acc[d->nacc].va = a->va;
    d->acc[d->nacc].size = (uint8_t)a->size;
    d->acc[d->nacc].write = a->acc == MMU_ACC_WRITE;
    d->nacc++;
}

/* Did gdb send ^C (or go away) while the replay runs? */
static bool poll_interrupt(struct dbg *d)
{
    if (rx_fill(d, 0) < 0)
        bye(d, 0);
    for (size_t i = 0; i < d->nin; i++)
        if (d->in[i] == 0x03) {
            d->in[i] = '+';                    /* consumed */
            d->interrupted = true;
        }
    if (d->interrupted) {
        d->interrupted = false;
        return true;
    }
    return false;
}

static void serve(struct dbg *d);
static void arrive(struct dbg *d);
static int make_snapshot(struct dbg *d, unsigned j);

/* trace_replay's on_step: history, snapshots, and the checks of the motion
 * in progress. m is d->m. */
static void on_step(void *arg, const struct machine *m, unsigned cpu, enum step_kind kind)
{
    struct dbg *d = arg;
    uint64_t p = m->st.steps, changed;
    struct hist *h = &d->h[p];
    const struct cpu *c = &m->cpu[cpu];
    size_t acc0 = d->nacc;

    h->cpu = (uint8_t)cpu;
    h->kind = (uint8_t)kind;
    h->kcore = kind == STEP_CPU && m->step_ran_kcore;
    h->pc0 = (uint32_t)d->nextpc[cpu];
    h->n = h->kcore ? d->nextn[cpu] : 0;
    if (h->kcore)
        for (unsigned i = 0; i < c->nacc && i < CPU_MAX_ACCESS; i++)
            push_acc(d, p, &c->acc[i]);
    changed = refresh_next(d, kind == STEP_CPU ? (int)cpu : -1);
    if (p % d->K == 0 && p / d->K < d->nsnap && !d->s.snap[p / d->K]) {
        if (make_snapshot(d, (unsigned)(p / d->K))) {
            arrive(d);                         /* a process spawned from it */
            return;
        }
    }
    switch (d->mot) {
    case MOT_RUN_TO:
        if (p == d->s.target)
            arrive(d);
        return;
    case MOT_STEP:
    case MOT_CONT: {
        char stop[STOP_LEN];
        bool mine = d->mot == MOT_STEP && kind == STEP_CPU && cpu == d->mot_cpu;
        bool check = d->mot == MOT_CONT || d->mot_others || mine;
        if (check && h->kcore) {
            for (size_t i = acc0; i < d->nacc; i++) {
                uint64_t addr;
                const struct wp *w = wp_hit(d, d->acc[i].va, d->acc[i].size, d->acc[i].write, &addr);
                if (w) {
                    /* Report it before the access, as Arm watchpoints do: the
                     * position before this step, at the accessing instruction. */
                    uint8_t k[HV_MAX_CPUS];
                    memcpy(k, d->k, sizeof(k));
                    k[cpu] = (uint8_t)(h->n ? h->n - 1 : 0);
                    fmt_watch(d, stop, cpu, w, addr);
                    travel(d, p - 1, k, stop, NULL);
                }
            }
        }
        if (mine) {
            fmt_stop(stop, 5, cpu, NULL);
            report(d, stop, NULL);
            serve(d);
            return;
        }
        if (d->mot == MOT_CONT || d->mot_others) {
            for (unsigned i = 0; i < d->ncpus; i++) {
                int j;
                if (!(changed >> i & 1) || (j = group_bp(d, i, 0)) < 0)
                    continue;
                d->k[i] = (uint8_t)j;
                fmt_bp(d, stop, i);
                report(d, stop, NULL);
                serve(d);
                return;
            }
        }
        if (++d->since_poll >= POLL_EVERY) {
            d->since_poll = 0;
            if (poll_interrupt(d)) {
                fmt_stop(stop, 2, d->mot == MOT_STEP ? d->mot_cpu : cpu, NULL);
                report(d, stop, NULL);
                serve(d);
            }
        }
        return;
    }
    default:
        return;
    }
}

/* We are at s.target (a goto or a spawned process's destination). */
static void arrive(struct dbg *d)
{
    if (d->m->st.steps != d->s.target) {
        d->mot = MOT_RUN_TO;                   /* not there yet: run on */
        return;
    }
    memcpy(d->k, d->s.k, sizeof(d->k));
    d->mot = MOT_NONE;
    if (d->s.stop[0])
        report(d, d->s.stop, d->s.note);
    d->s.stop[0] = 0;
    d->s.note[0] = 0;
    serve(d);
}

/* The end of the trace (or of a replay that diverged): the first time, say
 * how it ended; forward motions stop here. */
static void at_end_stop(struct dbg *d, unsigned cpu)
{
    char stop[STOP_LEN], note[NOTE_LEN] = "";
    const struct machine *m = d->m;
    if (!d->s.end_noted) {
        d->s.end_noted = true;
        if (d->rr.status != TRACE_REPLAY_OK)
            snprintf(note, sizeof(note), "hypsim: the replay diverged from its recording at step %" PRIu64 ": %.300s\n",
                     d->rr.step, d->rr.msg);
        else if (m->nviol)
            snprintf(note, sizeof(note), "hypsim: end of the trace, step %" PRIu64
                     ": violation of invariant %d (CPU %d): %.300s\n", m->st.steps, m->viol[0].invariant,
                     m->viol[0].cpu, m->viol[0].detail);
        else
            snprintf(note, sizeof(note), "hypsim: end of the trace, step %" PRIu64 ": no violation\n", m->st.steps);
        if (m->nviol && m->viol[0].cpu >= 0)
            cpu = (unsigned)m->viol[0].cpu;
    }
    fmt_stop(stop, 5, cpu, "replaylog:end;");
    report(d, stop, note);
}

/* ---- Motions started from a stop ----------------------------------------------------- */

static unsigned thread_or_last(const struct dbg *d, int t)
{
    return t >= 0 && (unsigned)t < d->ncpus ? (unsigned)t : d->s.last_cpu;
}

/* The thread s, bs and bc without a thread act on: Hc's, else (gdb sends
 * Hc0 = "any" before bs) the one gdb last read registers of, the thread it
 * shows, else the last stop's. */
static unsigned resume_thread(const struct dbg *d)
{
    return thread_or_last(d, d->s.cthread >= 0 ? d->s.cthread : d->s.gthread);
}

/* Forward step of CPU i. Returns true when the replay must run. */
static bool do_step(struct dbg *d, unsigned i, bool others)
{
    char stop[STOP_LEN];
    if (d->nextmode[i] == CPU_KCORE && d->k[i] + 1u < d->nextn[i]) {
        d->k[i]++;                             /* a register-only instruction */
        fmt_stop(stop, 5, i, NULL);
        report(d, stop, NULL);
        return false;
    }
    if (d->at_end) {
        at_end_stop(d, i);
        return false;
    }
    d->mot = MOT_STEP;
    d->mot_cpu = i;
    d->mot_others = others;
    d->since_poll = 0;
    return true;
}

/* Forward continue. Returns true when the replay must run. */
static bool do_cont(struct dbg *d)
{
    char stop[STOP_LEN];
    /* Breakpoints in the rest of the groups the CPUs are in the middle of
     * (a CPU sitting on one stops at once, as it would on hardware; the
     * thread just stopped at it is the one gdb steps over first). */
    for (unsigned n = 0; n < d->ncpus; n++) {
        unsigned i = (d->s.last_cpu + n) % d->ncpus;
        unsigned from = d->k[i];
        int j;
        if (d->s.stop_valid && i == d->s.last_cpu && d->s.stop_pos == d->m->st.steps && d->s.stop_k == d->k[i])
            from++;
        if ((j = group_bp(d, i, from)) >= 0) {
            d->k[i] = (uint8_t)j;
            fmt_bp(d, stop, i);
            report(d, stop, NULL);
            return false;
        }
    }
    if (d->at_end) {
        at_end_stop(d, d->s.last_cpu);
        return false;
    }
    d->mot = MOT_CONT;
    d->since_poll = 0;
    return true;
}

/* Steps of CPU i in (s, p]: did it run in between? */
static bool cpu_ran_between(const struct dbg *d, unsigned i, uint64_t s, uint64_t p)
{
    for (uint64_t q = s + 1; q <= p; q++)
        if (d->h[q].cpu == i && d->h[q].kind == STEP_CPU)
            return true;
    return false;
}

/* The offsets to keep when going back to position s: a CPU that did not
 * run since keeps its place in its group. */
static void offsets_at(const struct dbg *d, uint64_t s, uint8_t *k)
{
    for (unsigned i = 0; i < d->ncpus; i++)
        k[i] = cpu_ran_between(d, i, s, d->m->st.steps) ? 0 : d->k[i];
}

/* reverse-stepi of CPU i. */
static void do_rstep(struct dbg *d, unsigned i)
{
    char stop[STOP_LEN];
    uint8_t k[HV_MAX_CPUS];
    uint64_t p = d->m->st.steps, s;
    if (d->k[i] > 0) {
        d->k[i]--;
        fmt_stop(stop, 5, i, NULL);
        report(d, stop, NULL);
        return;
    }
    for (s = p; s >= 1; s--)
        if (d->h[s].cpu == i && d->h[s].kind == STEP_CPU)
            break;
    if (s == 0) {
        memset(k, 0, sizeof(k));
        fmt_stop(stop, 5, i, "replaylog:begin;");
        travel(d, 0, k, stop, NULL);
        return;
    }
    offsets_at(d, s - 1, k);
    k[i] = (uint8_t)(d->h[s].kcore && d->h[s].n ? d->h[s].n - 1 : 0);
    fmt_stop(stop, 5, i, NULL);
    travel(d, s - 1, k, stop, NULL);
}

/* reverse-continue: the latest breakpoint or watchpoint event before now. */
static void do_rcont(struct dbg *d)
{
    char stop[STOP_LEN];
    uint8_t k[HV_MAX_CPUS];
    uint64_t p = d->m->st.steps;
    size_t ai = d->nacc;

    /* 1. earlier instructions of the groups CPUs are in the middle of */
    for (unsigned i = 0; i < d->ncpus; i++) {
        if (d->nextmode[i] != CPU_KCORE)
            continue;
        for (int j = (int)d->k[i] - 1; j >= 0; j--)
            if (is_bp(d, d->nextpc[i] + 4ull * (unsigned)j)) {
                d->k[i] = (uint8_t)j;
                fmt_bp(d, stop, i);
                report(d, stop, NULL);
                return;
            }
    }
    /* 2. the history, latest step first */
    while (ai > 0 && d->acc[ai - 1].step > p)
        ai--;
    for (uint64_t s = p; s >= 1; s--) {
        const struct hist *h = &d->h[s];
        /* a watched access of step s: reported after it (gdb steps back over it) */
        for (; ai > 0 && d->acc[ai - 1].step == s; ai--) {
            uint64_t addr;
            const struct wp *w = wp_hit(d, d->acc[ai - 1].va, d->acc[ai - 1].size, d->acc[ai - 1].write, &addr);
            if (w) {
                offsets_at(d, s, k);
                k[h->cpu] = 0;
                fmt_watch(d, stop, h->cpu, w, addr);
                travel(d, s, k, stop, NULL);
                return;
            }
        }
        if (h->kind == STEP_CPU && h->kcore)
            for (int j = (int)h->n - 1; j >= 0; j--)
                if (is_bp(d, h->pc0 + 4ull * (unsigned)j)) {
                    offsets_at(d, s - 1, k);
                    k[h->cpu] = (uint8_t)j;
                    fmt_bp(d, stop, h->cpu);
                    travel(d, s - 1, k, stop, NULL);
                    return;
                }
    }
    memset(k, 0, sizeof(k));
    fmt_stop(stop, 5, d->s.last_cpu, "replaylog:begin;");
    travel(d, 0, k, stop, NULL);
}

/* ---- Packets ------------------------------------------------------------------------ */

/* A thread id: its CPU, -1 for "any"/"all", -2 for none of ours. */
static int parse_thread(const struct dbg *d, const char *p)
{
    uint64_t v;
    if (p[0] == '-' && p[1] == '1')
        return -1;
    if (!parse_hex(&p, &v))
        return -2;
    if (v == 0)
        return -1;
    return v <= d->ncpus ? (int)(v - 1) : -2;
}

static void reply_regs(struct dbg *d)
{
    char out[NREGS * 16 + 1], *o = out;
    unsigned i = cur_cpu(d);
    struct cpu_regs r;
    thread_regs(d, i, &r);
    for (unsigned n = 0; n < NREGS; n++) {
        reg_hex(d, i, n, &r, o);
        o += strlen(o);
    }
    tx_str(d, out);
}

static void reply_thread_info(struct dbg *d, int cpu)
{
    char text[160], mb[96], out[2 * sizeof(text) + 1];
    const struct cpu *c;
    if (cpu < 0) {
        tx_str(d, "E01");
        return;
    }
    c = &d->m->cpu[cpu];
    snprintf(text, sizeof(text), "CPU %d: %s", cpu, mode_name(c, mb, sizeof(mb)));
    hex_bytes(out, text, strlen(text));
    tx_str(d, out);
}

static void handle_z(struct dbg *d, const char *p, bool insert)
{
    uint64_t type, addr, len;
    const char *q = p + 1;
    if (!parse_hex(&q, &type) || *q++ != ',' || !parse_hex(&q, &addr) || *q++ != ',' || !parse_hex(&q, &len)) {
        tx_str(d, "E01");
        return;
    }
    if (type <= 1) {                           /* software or hardware breakpoint: the same here */
        unsigned i;
        for (i = 0; i < d->s.nbp && d->s.bp[i] != addr; i++)
            ;
        if (insert && i == d->s.nbp) {
            if (d->s.nbp == MAX_BP) {
                tx_str(d, "E0c");
                return;
            }
            d->s.bp[d->s.nbp++] = addr;
        } else if (!insert && i < d->s.nbp) {
            d->s.bp[i] = d->s.bp[--d->s.nbp];
        }
        tx_str(d, "OK");
        return;
    }
    if (type <= 4) {
        unsigned i;
        for (i = 0; i < d->s.nwp; i++)
            if (d->s.wp[i].addr == addr && d->s.wp[i].len == len && d->s.wp[i].type == (int)type)
                break;
        if (insert && i == d->s.nwp) {
            if (d->s.nwp == MAX_WP || len == 0) {
                tx_str(d, "E0c");
                return;
            }
            d->s.wp[d->s.nwp].addr = addr;
            d->s.wp[d->s.nwp].len = len;
            d->s.wp[d->s.nwp].type = (int)type;
            d->s.nwp++;
        } else if (!insert && i < d->s.nwp) {
            d->s.wp[i] = d->s.wp[--d->s.nwp];
        }
        tx_str(d, "OK");
        return;
    }
    tx_str(d, "");
}

/* vCont;ACTION[:thread]...: a step of one thread (with the others running
 * or not), or a continue. */
static bool handle_vcont(struct dbg *d, const char *p)
{
    int step = -2;
    bool cont = false;
    while (*p == ';') {
        char a = p[1];
        int t = -1;
        p += 2;
        if (a == 'C' || a == 'S') {            /* signal number: ignored */
            uint64_t sig;
            parse_hex(&p, &sig);
        }
        if (*p == ':') {
            t = parse_thread(d, p + 1);
            p++;
            while (*p && *p != ';')
                p++;
        }
        if ((a == 's' || a == 'S') && step == -2)
            step = t;
        else if (a == 'c' || a == 'C')
            cont = true;
        else if (a != 's' && a != 'S') {
            tx_str(d, "E01");
            return false;
        }
    }
    if (step != -2)
        return do_step(d, thread_or_last(d, step), cont);
    return do_cont(d);
}

static bool handle_query(struct dbg *d, const char *p)
{
    uint64_t off, len;
    if (!strncmp(p, "qSupported", 10)) {
        char r[256];
        d->s.swbreak = strstr(p, "swbreak+") != NULL;
        snprintf(r, sizeof(r), "PacketSize=%x;qXfer:features:read+;%sQStartNoAckMode+;ReverseStep+;"
                               "ReverseContinue+;swbreak+;vContSupported+",
                 PKT_MAX, d->o->exec_file ? "qXfer:exec-file:read+;" : "");
        tx_str(d, r);
    } else if (!strncmp(p, "qXfer:features:read:target.xml:", 31)) {
        const char *q = p + 31;
        struct sbuf b = { 0 };
        if (!parse_hex(&q, &off) || *q++ != ',' || !parse_hex(&q, &len)) {
            tx_str(d, "E01");
            return false;
        }
        build_target_xml(&b);
        if (b.oom)
            tx_str(d, "E0c");
        else
            tx_xfer(d, b.p, b.n, off, len);
        free(b.p);
    } else if (!strncmp(p, "qXfer:features:read:", 20)) {
        tx_str(d, "E00");
    } else if (!strncmp(p, "qXfer:exec-file:read:", 21) && d->o->exec_file) {
        const char *q = strchr(p + 21, ':');
        if (!q || (q++, !parse_hex(&q, &off)) || *q++ != ',' || !parse_hex(&q, &len)) {
            tx_str(d, "E01");
            return false;
        }
        tx_xfer(d, d->o->exec_file, strlen(d->o->exec_file), off, len);
    } else if (!strcmp(p, "qfThreadInfo")) {
        struct sbuf b = { 0 };
        sb_add(&b, "m", 1);
        for (unsigned i = 0; i < d->ncpus; i++)
            sb_printf(&b, i ? ",%x" : "%x", i + 1);
        tx_str(d, b.oom ? "E0c" : b.p);
        free(b.p);
    } else if (!strcmp(p, "qsThreadInfo")) {
        tx_str(d, "l");
    } else if (!strcmp(p, "qC")) {
        char r[32];
        snprintf(r, sizeof(r), "QC%x", d->s.last_cpu + 1);
        tx_str(d, r);
    } else if (!strncmp(p, "qAttached", 9)) {
        tx_str(d, "1");
    } else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
        reply_thread_info(d, parse_thread(d, p + 17));
    } else if (!strncmp(p, "qSymbol:", 8)) {
        tx_str(d, "OK");
    } else if (!strncmp(p, "qRcmd,", 6)) {
        char cmd[512];
        size_t n = 0;
        for (const char *q = p + 6; q[0] && q[1] && n < sizeof(cmd) - 1; q += 2)
            cmd[n++] = (char)(hexval(q[0]) << 4 | hexval(q[1]));
        cmd[n] = 0;
        return monitor(d, cmd);
    } else {
        tx_str(d, "");
    }
    return false;
}

/* One packet. Returns true when the replay must run (a forward motion). */
static bool handle(struct dbg *d, const char *p)
{
    uint64_t a, b;
    const char *q;
    switch (p[0]) {
    case '?':
        tx_str(d, d->s.last_stop);
        return false;
    case 'q':
        return handle_query(d, p);
    case 'Q':
        if (!strcmp(p, "QStartNoAckMode")) {
            tx_str(d, "OK");
            d->s.noack = true;
        } else {
            tx_str(d, "");
        }
        return false;
    case 'H': {
        int t = parse_thread(d, p + 2);
        if (t == -2) {
            tx_str(d, "E01");
            return false;
        }
        if (p[1] == 'g')
            d->s.gthread = t;
        else
            d->s.cthread = t;
        tx_str(d, "OK");
        return false;
    }
    case 'T':
        tx_str(d, parse_thread(d, p + 1) >= 0 ? "OK" : "E01");
        return false;
    case 'g':
        reply_regs(d);
        return false;
    case 'p': {
        char out[17];
        struct cpu_regs r;
        q = p + 1;
        parse_hex(&q, &a);
        thread_regs(d, cur_cpu(d), &r);
        tx_str(d, reg_hex(d, cur_cpu(d), (unsigned)a, &r, out) == 0 ? out : "E01");
        return false;
    }
    case 'G':
    case 'P':
    case 'M':
    case 'X':
        tx_str(d, "E01");                      /* a recording cannot be changed */
        return false;
    case 'm':
        q = p + 1;
        if (!parse_hex(&q, &a) || *q++ != ',' || !parse_hex(&q, &b)) {
            tx_str(d, "E01");
            return false;
        }
        reply_mem(d, cur_cpu(d), a, b);
        return false;
    case 'Z':
    case 'z':
        handle_z(d, p, p[0] == 'Z');
        return false;
    case 'c':
        return do_cont(d);
    case 's':
        return do_step(d, resume_thread(d), false);
    case 'b':
        if (p[1] == 's')
            do_rstep(d, resume_thread(d));
        else if (p[1] == 'c')
            do_rcont(d);
        else
            tx_str(d, "");
        return false;
    case 'v':
        if (!strcmp(p, "vCont?")) {
            tx_str(d, "vCont;c;C;s;S");
            return false;
        }
        if (!strncmp(p, "vCont;", 6))
            return handle_vcont(d, p + 5);
        if (!strncmp(p, "vKill", 5)) {
            tx_str(d, "OK");
            bye(d, 0);
        }
        tx_str(d, "");
        return false;
    case 'D':
        tx_str(d, "OK");
        bye(d, 0);
    case 'k':
        bye(d, 0);
    default:
        tx_str(d, "");
        return false;
    }
}

/* Answer gdb at the current position until it starts a forward motion. */
static void serve(struct dbg *d)
{
    for (;;) {
        long n = rx_take(d, d->pkt, sizeof(d->pkt));
        if (n < 0) {
            d->interrupted = false;            /* ^C while stopped: nothing to stop */
            if (rx_fill(d, -1) < 0)
                bye(d, 0);
            continue;
        }
        if (handle(d, d->pkt))
            return;
    }
}

/* ---- Processes ------------------------------------------------------------------------ */

static void fail_msg(struct dbg *d, const char *what)
{
    snprintf(d->s.note, sizeof(d->s.note), "%s: %s", what, strerror(errno));
    msg_send(d, MSG_FAIL, 0, 0);
}

/* Snapshot j: wait until asked to spawn an active process, which returns
 * from here with the session it was given; the snapshot waits for it to
 * end and waits again. Ends when the front is gone. */
static void snapshot_loop(struct dbg *d, unsigned j)
{
    struct gdb_msg *g = malloc(sizeof(*g));
    if (!g)
        _exit(3);
    d->own = (int)j;
    for (;;) {
        ssize_t n = recv(d->chan[j], g, sizeof(*g), 0);
        pid_t pid;
        int st = 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof(*g))
            _exit(0);                          /* the front is gone */
        if (g->type != MSG_SPAWN)
            continue;
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
            d->s = g->s;
            free(g);
            memcpy(d->in, d->s.pending, d->s.npending);
            d->nin = d->s.npending;
            d->s.npending = 0;
            d->interrupted = false;
            d->mot = MOT_RUN_TO;
            return;
        }
        if (pid < 0) {
            fail_msg(d, "fork of a replay process");
            continue;
        }
        msg_send(d, MSG_SPAWNED, 0, pid);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        msg_send(d, MSG_DIED, st, pid);
    }
}

/* Keep the state at this step in a new snapshot process j. Returns 0 in
 * the process that goes on, 1 in a process later spawned from the
 * snapshot. */
static int make_snapshot(struct dbg *d, unsigned j)
{
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fail_msg(d, "fork of a snapshot");
        d->s.snap[j] = 1;                      /* do not try again */
        return 0;
    }
    if (pid == 0) {
        d->s.snap[j] = 1;
        snapshot_loop(d, j);
        return 1;
    }
    d->s.snap[j] = 1;
    msg_send(d, MSG_SNAP, (int)j, pid);
    return 0;
}

/* An active process from snapshot 0 (before the first step): replay to the
 * end, serving gdb at every stop, then keep serving it there. */
static _Noreturn void active_run(struct dbg *d)
{
    struct trace_replay_opts ro;
    refresh_next(d, -1);
    memset(d->k, 0, sizeof(d->k));
    arrive(d);
    memset(&ro, 0, sizeof(ro));
    ro.verify = true;
    ro.on_step = on_step;
    ro.on_step_arg = d;
    trace_replay(d->m, d->t, &ro, &d->rr);
    d->at_end = true;
    if (d->mot == MOT_RUN_TO && d->s.target == d->m->st.steps) {
        arrive(d);
    } else if (d->mot != MOT_NONE) {
        d->mot = MOT_NONE;
        at_end_stop(d, d->mot_cpu < d->ncpus ? d->mot_cpu : d->s.last_cpu);
    }
    for (;;) {
        serve(d);                              /* forward motions stop at once here */
        if (d->mot == MOT_RUN_TO)
            at_end_stop(d, d->s.last_cpu);
        d->mot = MOT_NONE;
    }
}

/* ---- The front ------------------------------------------------------------------------ */

struct front {
    int fe[GDBSTUB_MAX_SNAPSHOTS];            /* front-side channel ends */
    pid_t snap[GDBSTUB_MAX_SNAPSHOTS];
    pid_t active;
    pid_t leaving;                             /* an active that asked to go back */
};

static void front_kill_all(struct dbg *d, struct front *f)
{
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    for (unsigned j = 0; j < d->nsnap; j++)
        if (f->snap[j] > 0)
            kill(f->snap[j], SIGKILL);
    if (f->active > 0)
        kill(f->active, SIGKILL);
    if (f->leaving > 0)
        kill(f->leaving, SIGKILL);
    /* Every process of the session is ours (we are their subreaper): reap
     * them all, for at most 5 s. */
    for (int i = 0; i < 250; i++) {
        pid_t r = waitpid(-1, NULL, WNOHANG);
        if (r < 0 && errno == ECHILD)
            return;
        if (r <= 0)
            nanosleep(&ts, NULL);
    }
    if (d->o->msg)
        fprintf(d->o->msg, "gdb: warning: replay processes still running 5 s after the session ended\n");
}

static int front_loop(struct dbg *d, struct front *f, int sfd, char *err, size_t errlen)
{
    struct pollfd pf[GDBSTUB_MAX_SNAPSHOTS + 1];
    struct gdb_msg *g = malloc(sizeof(*g));
    int rc = -1;
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        unsigned n = 0;
        for (unsigned j = 0; j < d->nsnap; j++) {
            pf[n].fd = f->fe[j];
            pf[n].events = POLLIN;
            pf[n].revents = 0;
            n++;
        }
        pf[n].fd = sfd;
        pf[n].events = POLLIN;
        pf[n].revents = 0;
        if (poll(pf, n + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "poll: %s", strerror(errno));
            break;
        }
        if (pf[n].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo != SIGCHLD) {
                snprintf(err, errlen, "stopped by signal %u", si.ssi_signo);
                break;
            }
            for (pid_t r; (r = waitpid(-1, NULL, WNOHANG)) > 0;) {
                for (unsigned j = 0; j < d->nsnap; j++)
                    if (f->snap[j] == r)
                        f->snap[j] = 0;
                if (r == f->leaving)
                    f->leaving = 0;
            }
        }
        for (unsigned j = 0; j < d->nsnap; j++) {
            ssize_t got;
            if (!(pf[j].revents & POLLIN))
                continue;
            got = recv(f->fe[j], g, sizeof(*g), MSG_DONTWAIT);
            if (got != (ssize_t)sizeof(*g))
                continue;
            switch (g->type) {
            case MSG_SNAP:
                if (g->a >= 0 && (unsigned)g->a < d->nsnap)
                    f->snap[g->a] = (pid_t)g->b;
                break;
            case MSG_SPAWNED:
                f->active = (pid_t)g->b;
                break;
            case MSG_DIED:
                if ((pid_t)g->b == f->active) {
                    f->active = 0;
                    if (f->leaving != (pid_t)g->b) {
                        snprintf(err, errlen, "the replay process %lld ended unexpectedly (%s %d)",
                                 (long long)g->b, WIFSIGNALED(g->a) ? "signal" : "exit status",
                                 WIFSIGNALED(g->a) ? WTERMSIG(g->a) : WEXITSTATUS(g->a));
                        send_all(d->fd, "$X0b#ea", 7);   /* gdb: "terminated" (SIGSEGV) */
                        goto out;
                    }
                }
                if (f->leaving == (pid_t)g->b)
                    f->leaving = 0;
                break;
            case MSG_GOTO: {
                uint64_t jt = g->s.target / d->K;
                if (jt >= d->nsnap)
                    jt = d->nsnap - 1;
                while (jt > 0 && f->snap[jt] <= 0)
                    jt--;
                f->leaving = f->active;
                for (unsigned i = 0; i < d->nsnap; i++)
                    g->s.snap[i] = f->snap[i] > 0;
                g->type = MSG_SPAWN;
                if (send(f->fe[jt], g, sizeof(*g), MSG_NOSIGNAL) != (ssize_t)sizeof(*g)) {
                    snprintf(err, errlen, "snapshot %u does not answer", (unsigned)jt);
                    goto out;
                }
                if (d->o->log_packets && d->o->msg)
                    fprintf(d->o->msg, "gdb: back to step %" PRIu64 " from the snapshot at step %" PRIu64 "\n",
                            g->s.target, jt * d->K);
                break;
            }
            case MSG_BYE:
                rc = 0;
                goto out;
            case MSG_FAIL:
                if (d->o->msg)
                    fprintf(d->o->msg, "gdb: warning: %s\n", g->s.note);
                break;
            default:
                break;
            }
        }
    }
out:
    free(g);
    return rc;
}

static int listen_on(unsigned port, unsigned *bound, char *err, size_t errlen)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        snprintf(err, errlen, "--gdb %u: cannot listen on 127.0.0.1:%u: %s", port, port, strerror(errno));
        close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

int gdbstub_run(struct machine *m, const struct trace *t, const struct gdbstub_opts *o,
                char *err, size_t errlen)
{
    struct dbg *d;
    struct front f;
    sigset_t block, old;
    unsigned port = 0;
    int lfd, sfd = -1, rc = -1, sv[2];
    pid_t p0;

    if (m->st.steps != 0 || m->cfg.ncpus > HV_MAX_CPUS) {
        snprintf(err, errlen, "internal: the machine must be fresh");
        return -1;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(&f, 0, sizeof(f));
    d->m = m;
    d->t = t;
    d->o = o;
    d->T = t->steps;
    d->ncpus = m->cfg.ncpus;
    d->K = o->snapshot_every ? o->snapshot_every : d->T / 16 > 2000 ? (d->T + 15) / 16 : 2000;
    d->nsnap = (unsigned)(d->T / d->K + 1 < GDBSTUB_MAX_SNAPSHOTS ? d->T / d->K + 1 : GDBSTUB_MAX_SNAPSHOTS);
    d->s.gthread = d->s.cthread = -1;
    fmt_stop(d->s.last_stop, 5, 0, NULL);
    d->h = calloc(d->T + 1, sizeof(*d->h));
    if (!d->h) {
        snprintf(err, errlen, "out of memory for the history of %" PRIu64 " steps", d->T);
        free(d);
        return -1;
    }
    for (unsigned j = 0; j < GDBSTUB_MAX_SNAPSHOTS; j++)
        d->chan[j] = f.fe[j] = -1;
    lfd = listen_on(o->port, &port, err, errlen);
    if (lfd < 0)
        goto done;
    if (o->msg) {
        fprintf(o->msg, "gdb: listening on 127.0.0.1:%u (%u CPUs = threads 1-%u, %" PRIu64
                        " steps, a snapshot every %" PRIu64 " steps)\n"
                        "gdb: connect from the source tree's root with: gdb-multiarch -ex 'directory hyp/kcore' "
                        "-ex 'target remote :%u'%s\n",
                port, d->ncpus, d->ncpus, d->T, d->K, port,
                o->exec_file ? "" : " (and 'file' the KCore debug ELF for symbols)");
        fflush(o->msg);
    }
    do
        d->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    while (d->fd < 0 && errno == EINTR);
    close(lfd);
    if (d->fd < 0) {
        snprintf(err, errlen, "accept: %s", strerror(errno));
        goto done;
    }
    {
        int one = 1;
        setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (o->msg) {
        fprintf(o->msg, "gdb: connected\n");
        fflush(o->msg);
    }
    /* Orphaned session processes come to us, so that we can reap them. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    for (unsigned j = 0; j < d->nsnap; j++) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            snprintf(err, errlen, "socketpair: %s", strerror(errno));
            goto done;
        }
        f.fe[j] = sv[0];
        d->chan[j] = sv[1];
    }
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    sfd = signalfd(-1, &block, SFD_CLOEXEC);
    if (sfd < 0) {
        snprintf(err, errlen, "signalfd: %s", strerror(errno));
        sigprocmask(SIG_SETMASK, &old, NULL);
        goto done;
    }
    fflush(NULL);
    p0 = fork();
    if (p0 < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        sigprocmask(SIG_SETMASK, &old, NULL);
        goto done;
    }
    if (p0 == 0) {
        /* snapshot 0, then the first active process */
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(sfd);
        for (unsigned j = 0; j < d->nsnap; j++)
            close(f.fe[j]);
        d->s.snap[0] = 1;
        snapshot_loop(d, 0);
        active_run(d);
    }
    f.snap[0] = p0;
    for (unsigned j = 0; j < d->nsnap; j++) {
        close(d->chan[j]);
        d->chan[j] = -1;
    }
    {
        struct gdb_msg *g = calloc(1, sizeof(*g));
        if (!g) {
            snprintf(err, errlen, "out of memory");
        } else {
            g->type = MSG_SPAWN;
            g->s = d->s;
            g->s.target = 0;
            g->s.snap[0] = 1;
            if (send(f.fe[0], g, sizeof(*g), MSG_NOSIGNAL) == (ssize_t)sizeof(*g))
                rc = front_loop(d, &f, sfd, err, errlen);
            else
                snprintf(err, errlen, "the first replay process does not answer");
            free(g);
        }
    }
    front_kill_all(d, &f);
    close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
done:
    for (unsigned j = 0; j < GDBSTUB_MAX_SNAPSHOTS; j++) {
        if (f.fe[j] >= 0)
            close(f.fe[j]);
        if (d->chan[j] >= 0)
            close(d->chan[j]);
    }
    if (d->fd > 0)
        close(d->fd);
    free(d->h);
    free(d->acc);
    free(d);
    return rc;
}

/* ---- The debug ELF ---------------------------------------------------------------------- */

static bool same_image(const struct kimage *a, const struct kimage *b)
{
    if (a->entry != b->entry || a->text_base != b->text_base || a->text_size != b->text_size ||
        memcmp(a->text, b->text, a->text_size) || a->nseg != b->nseg)
        return false;
    for (unsigned i = 0; i < a->nseg; i++)
        if (a->seg[i].pa != b->seg[i].pa || a->seg[i].filesz != b->seg[i].filesz ||
            a->seg[i].memsz != b->seg[i].memsz || memcmp(a->seg[i].data, b->seg[i].data, a->seg[i].filesz))
            return false;
    return true;
}

int gdbstub_debug_elf(const char *kcore_path, char *out, size_t outlen, char *why, size_t whylen)
{
    size_t n = strlen(kcore_path);
    struct kimage a, b;
    char err[512];
    int rc = -1;

    if (n < 4 || strcmp(kcore_path + n - 4, ".elf") ||
        (size_t)snprintf(out, outlen, "%.*s.debug.elf", (int)(n - 4), kcore_path) >= outlen) {
        snprintf(why, whylen, "%s: not named *.elf, so no *.debug.elf twin", kcore_path);
        return -1;
    }
    if (access(out, R_OK) != 0) {
        snprintf(why, whylen, "%s: %s", out, strerror(errno));
        return -1;
    }
    if (kimage_load(&a, kcore_path, hv_default()->layout.text_base + hv_default()->layout.text_size, err, sizeof(err)) != 0) {
        snprintf(why, whylen, "%s", err);
        return -1;
    }
    if (kimage_load(&b, out, hv_default()->layout.text_base + hv_default()->layout.text_size, err, sizeof(err)) != 0)
        snprintf(why, whylen, "%s", err);
    else if (!same_image(&a, &b))
        snprintf(why, whylen, "%s does not load the same image as %s (rebuild)", out, kcore_path);
    else
        rc = 0;
    kimage_free(&b);                           /* zeroed by a failed load: safe */
    kimage_free(&a);
    return rc;
}
