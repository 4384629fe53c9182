/*
 * litmus/litmus.h - herd7 AArch64 VMSA litmus tests on the hypsim model.
 *
 * Models: the subset of herd's `.litmus` format used by the aarch64-VMSA
 * catalogue (init section with locations, registers, PTE(x)/pte_x,
 * PA(x)/phy_x and descriptor literals; thread code with labels and fault
 * handlers `Pn.F`; `locations[...]`; exists / ~exists / forall conditions
 * with fault(...) atoms), and an exhaustive explorer that runs the threads
 * on the model's stage-1 walker (mmu/) and per-CPU TLBs with pending
 * broadcast invalidations (tlb/). See litmus/README.md for the mapping of
 * herd's semantics onto the model and for what is left out.
 *
 * A test that uses a feature outside the supported subset parses
 * successfully but carries a non-empty `unsupported` reason; only
 * malformed input is a parse error (file:line in the message).
 * No globals: every test and result is an explicit struct.
 */
#ifndef HYPSIM_LITMUS_H
#define HYPSIM_LITMUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIT_MAX_THREADS 6
#define LIT_MAX_INSNS   64      /* per thread, handler included */
#define LIT_MAX_LOCS    16
#define LIT_MAX_LABELS  24      /* per thread */
#define LIT_MAX_NODES   256     /* condition tree */
#define LIT_MAX_DEPTH   100     /* nesting of ~, not and ( ) in a condition */
#define LIT_MAX_OBS     48      /* observed items */
#define LIT_NAME        64
#define LIT_MAX_FILE_BYTES  (1u << 20)   /* a .litmus file (the catalogue's largest: 2 KiB) */
#define LIT_MAX_KINDS_BYTES (16u << 20)  /* a verdict file */

/* ---- Instructions (the catalogue's subset, decoded from text) -------- */
enum lit_op {
    LOP_NOP, LOP_MOVI, LOP_MOVR, LOP_ALU, LOP_CMP, LOP_CSEL, LOP_CSET,
    LOP_B, LOP_BCOND, LOP_CBZ, LOP_CBNZ, LOP_ADR,
    LOP_LDR, LOP_STR, LOP_SWP, LOP_LDOP, LOP_CAS, LOP_LDXR, LOP_STXR,
    LOP_DMB, LOP_DSB, LOP_ISB, LOP_TLBI, LOP_MSR_ELR, LOP_MRS_ELR, LOP_ERET,
    LOP_MOVK,                /* MOVK: imm << shamt into bits [shamt+15:shamt] of rd */
    LOP_CSINC, LOP_CSINV, LOP_CSNEG,   /* rd = cond ? rn : f(rm) */
    LOP_BFX,                 /* UBFX (sub 0) / SBFX (sub 1): bits [lsb+width-1:lsb] of rn */
    LOP_TBZ, LOP_TBNZ,       /* bit imm of rn zero / not zero */
};
enum lit_alu {
    ALU_ADD, ALU_SUB, ALU_AND, ALU_ORR, ALU_EOR, ALU_BIC, ALU_LSL, ALU_LSR,
    ALU_ASR, ALU_ROR, ALU_ORN, ALU_EON, ALU_MUL,
};
enum lit_ldop { LD_ADD, LD_CLR, LD_SET, LD_EOR };
/* Memory operands: [Xn], [Xn,#imm], [Xn,Xm{,LSL #s}], [Xn,Wm,SXTW|UXTW{ #s}],
 * pre-index [Xn,#imm]! and post-index [Xn],#imm (Xn += imm after an
 * access that does not fault). */
enum lit_amode { AM_BASE, AM_IMM, AM_REG, AM_SXTW, AM_UXTW, AM_PRE, AM_POST };
/* Second operand of an ALU instruction: a shifted or an extended register */
enum lit_shift {
    SH_NONE, SH_LSL, SH_LSR, SH_ASR, SH_ROR,
    EX_UXTB, EX_UXTH, EX_UXTW, EX_UXTX, EX_SXTB, EX_SXTH, EX_SXTW, EX_SXTX,
};
#define LIT_XZR 31

struct lit_insn {
    uint8_t op;
    uint8_t sf;              /* 1: 64-bit (X), 0: 32-bit (W) */
    uint8_t rd, rn, rm, rs;  /* LIT_XZR for the zero register */
    uint8_t sub;             /* alu / ldop / condition code / BFX signedness */
    uint8_t amode;           /* memory operand mode */
    bool use_imm;            /* ALU/CMP immediate form */
    bool no_dest;            /* STADD/STCLR...: result discarded */
    bool setflags;           /* ALU: NZCV from the result (ADDS, SUBS, ANDS, BICS, CMN, TST) */
    bool sext;               /* loads: sign-extend the value read (LDRSB, LDRSH, LDRSW) */
    uint8_t size;            /* memory access in bytes; 0: 8 for X, 4 for W */
    uint8_t shift;           /* ALU second operand: enum lit_shift */
    uint8_t shamt;           /* its amount; memory: the index register's shift; MOVK: 0/16/32/48 */
    uint8_t lsb, width;      /* LOP_BFX */
    int64_t imm;
    int target;              /* branch/ADR target instruction index */
    uint8_t tlbi_op1, tlbi_crm, tlbi_op2;
    bool tlbi_xt;
    /* Memory ordering (model/hw/rlx.h): acquire (LDAR, LDAXR, A-forms),
     * acquire_pc (LDAPR, LDAPUR), release (STLR, STLUR, STLXR, L-forms);
     * DMB/DSB: the option's shareability domain (CRm[3:2]: 0 OSH, 1 NSH,
     * 2 ISH, 3 SY) and access types (CRm[1:0]: 1 LD, 2 ST, 3 all). */
    bool acq, acq_pc, rel;
    uint8_t bar_domain, bar_types;
    unsigned line;           /* source line (messages) */
};

/* Bytes of the memory access of a load, store or atomic. */
static inline unsigned lit_insn_size(const struct lit_insn *in) { return in->size ? in->size : in->sf ? 8 : 4; }

struct lit_label { char name[LIT_NAME]; int index; };

struct lit_thread {
    unsigned n;              /* instructions: main code [0, nmain), handler [nmain, n) */
    unsigned nmain;
    bool has_handler;
    struct lit_insn insn[LIT_MAX_INSNS];
    unsigned nlabels;
    struct lit_label label[LIT_MAX_LABELS];
    uint64_t reg[31];        /* initial X0..X30 */
    bool ha, hd;             /* TTHM for this CPU */
    bool el0;                /* runs at EL0 (header EL0=Pn,...): EL0 permissions */
};

struct lit_loc {
    char name[LIT_NAME];
    uint64_t init;           /* initial 8-byte value of the location */
    uint64_t pte;            /* initial descriptor of its page (encoded) */
};

/* ---- Conditions ------------------------------------------------------ */
enum lit_node_kind { LN_TRUE, LN_FALSE, LN_NOT, LN_AND, LN_OR, LN_EQ, LN_FAULT };
enum lit_lhs_kind { LHS_REG, LHS_MEM, LHS_PTE };
enum lit_fault_type { LF_ANY = 0, LF_TRANSLATION, LF_ACCESS_FLAG, LF_PERMISSION };

struct lit_lhs { uint8_t kind; uint8_t proc; uint8_t reg; uint8_t loc; };

struct lit_node {
    uint8_t kind;
    int a, b;                /* children (NOT: a; AND/OR: a, b) */
    struct lit_lhs lhs;      /* LN_EQ */
    uint64_t val;            /* LN_EQ */
    uint8_t fproc; int flabel_index;  /* LN_FAULT: index -1 = any label */
    int floc; uint8_t ftype;
};

enum lit_quant { LQ_EXISTS, LQ_NOT_EXISTS, LQ_FORALL };
enum lit_fault_mode { LFM_HANDLED, LFM_FATAL, LFM_SKIP };

struct lit_test {
    char name[128];
    char path[512];
    char unsupported[256];   /* empty: supported */
    unsigned nthreads;
    struct lit_thread th[LIT_MAX_THREADS];
    unsigned nlocs;
    struct lit_loc loc[LIT_MAX_LOCS];
    enum lit_fault_mode fault_mode;
    enum lit_quant quant;
    unsigned nnodes;
    int root;
    struct lit_node node[LIT_MAX_NODES];
    unsigned nobs;
    struct lit_lhs obs[LIT_MAX_OBS];
};

/* Parse the text of one test. Returns 0 (t filled; t->unsupported may be
 * set) or -1 for malformed input, with "path:line: message" in err. */
int lit_parse(const char *path, const char *text, struct lit_test *t, char *err, size_t errlen);
/* Read and parse a file; -1 with "path: reason" when it cannot be read:
 * not a regular file (FIFOs and devices are refused without blocking),
 * larger than LIT_MAX_FILE_BYTES, or holding a NUL byte. t is zeroed
 * first, so t->name is empty unless the text got as far as its name. */
int lit_parse_file(const char *path, struct lit_test *t, char *err, size_t errlen);

/* ---- Exploration ------------------------------------------------------ */
struct lit_opts {
    uint64_t max_states;     /* bound on distinct states; 0: default (2M) */
    bool relaxed;            /* diagnostic: allow reordering of program order */
    bool memory_relaxed;     /* the relaxed memory model (model/hw/rlx.h); else SC */
};

struct lit_result {
    bool ok;                 /* exploration completed within bounds */
    char error[256];         /* why not (bound hit, unsupported at run time) */
    uint64_t states;         /* distinct states visited */
    unsigned nfinal;         /* distinct final states (observed projection) */
    char **final;            /* their text, "0:X4=1; x=1; fault(P0:L0,x)" */
    bool cond_some;          /* P holds in some final state */
    bool cond_all;           /* P holds in every final state */
};

/* Explore every interleaving of t's threads with TLB fills, evictions and
 * pending-TLBI completions. Deterministic. Returns 0, or -1 with r->error
 * (r->ok false). Free r with lit_result_free. */
int lit_run(const struct lit_test *t, const struct lit_opts *o, struct lit_result *r);
void lit_result_free(struct lit_result *r);

/* ---- Verdicts (kinds.txt) -------------------------------------------- */
enum lit_verdict { LV_NONE = 0, LV_ALLOWED, LV_FORBIDDEN, LV_REQUIRED };

struct lit_kinds {
    unsigned n, cap;
    struct lit_kind { char *name; enum lit_verdict v; unsigned line; } *e;   /* sorted by name */
};
/* Load a verdict file: herd's "NAME VERDICT" or isla's "NAME VERDICT
 * SOURCE" lines, '#' to the end of a line a comment (kinds.c). The first
 * verdict given for a name wins. Refused, -1 with "path:line: ..." (or
 * "path: ..."): a line in neither format, an unknown verdict word, a file
 * without verdicts, a non-regular file or one over LIT_MAX_KINDS_BYTES. */
int lit_kinds_load(const char *path, struct lit_kinds *k, char *err, size_t errlen);
enum lit_verdict lit_kinds_find(const struct lit_kinds *k, const char *name);
void lit_kinds_free(struct lit_kinds *k);
const char *lit_verdict_name(enum lit_verdict v);

/* ---- Classification --------------------------------------------------- */
enum lit_class {
    LC_UNSUPPORTED, LC_NO_VERDICT, LC_SOUND, LC_COMPLETE, LC_MISSED, LC_UNSOUND,
};
/* From the verdict (about the condition's proposition P: Allowed = P can
 * hold, Forbidden = P never holds, Required = P always holds) and the
 * explored final states. An exploration that reached no final state (no
 * execution of every thread ends) is LC_NO_VERDICT whatever the verdict:
 * never "sound". */
enum lit_class lit_classify(enum lit_verdict v, const struct lit_result *r);
const char *lit_class_name(enum lit_class c);

/* Is P (the quantified proposition) reachable, in the sense the
 * quantifier gives: exists/~exists: some final state satisfies P; forall:
 * every final state does. */
bool lit_condition_reachable(const struct lit_test *t, const struct lit_result *r);

/* ---- Descriptor literal encoding (exposed for tests) ----------------- */
uint64_t lit_va(unsigned loc);
uint64_t lit_pa(unsigned loc);
uint64_t lit_pte_addr(unsigned loc);
uint64_t lit_desc_encode(unsigned oa_loc, bool valid, bool af, bool db, bool dbm, bool el0);

#endif
