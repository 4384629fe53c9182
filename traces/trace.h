/*
 * traces/trace.h - hypsim traces: a run's config plus the sequence of its
 * scheduler and actor choices, with state-hash checkpoints and the outcome.
 * File format: traces/FORMAT.md (JSON, "format": "hypsim-trace", version 1).
 *
 * Two layers:
 *  - the file format (trace.c, sha256.c; library hypsim_tracefmt): read,
 *    validate, write, the choice encoding. It needs only the *declaration*
 *    of struct machine_config, never a machine, so it is unit-tested and
 *    fuzzed alone;
 *  - record, replay and shrink (replay.c, shrink.c; library hypsim_traces,
 *    on top of hypsim_model), through the machine's choose/record/step hooks.
 *
 * A run is its config plus the values of every machine_choose() decision in
 * order; the n of each decision is re-derived at replay, so a choice >= n is
 * detected there (an impossible choice: the trace is wrong for this config
 * or KCore binary).
 */
#ifndef HYPSIM_TRACE_H
#define HYPSIM_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/machine.h"
#include "traces/sha256.h"

#define TRACE_FORMAT_NAME     "hypsim-trace"
#define TRACE_FORMAT_VERSION  1
#define TRACE_MAX_FILE_BYTES  (256ull << 20)   /* larger files are refused */
#define TRACE_HASH_EVERY_DEFAULT 1000
#define TRACE_MAX_STEPS       (1ull << 53)     /* exactly representable in JSON */

struct trace_checkpoint {
    uint64_t step;             /* m->st.steps when the hash was taken */
    uint64_t hash;             /* machine_hash() */
};

#define TRACE_MUTANT_MAX 64   /* kcore_mutant: at most 63 characters [a-z0-9_] */

struct trace {
    struct machine_config cfg;
    uint8_t kcore_sha256[SHA256_BYTES];
    /* kcore_mutant (optional): the mutant the KCore ELF was built as, ""
     * for the correct KCore; has_mutant false when not recorded (files
     * before the field, or an ELF not named kcore[-NAME].elf). */
    bool has_mutant;
    char mutant[TRACE_MUTANT_MAX];
    bool has_scenario_sha256;
    uint8_t scenario_sha256[SHA256_BYTES];
    /* config.scenario_text (optional): the scenario file's bytes, embedded
     * (malloc'd, NUL-terminated; its SHA-256 is scenario_sha256), so that
     * replay needs no file; NULL when not embedded (files before the
     * field, which replay from config.scenario). */
    char *scenario_text;
    size_t scenario_len;
    uint64_t hash_every;       /* K: a checkpoint every K steps */
    /* choices */
    uint32_t *choice;
    size_t nchoice, capchoice;
    /* checkpoints, ascending by step; the last one is the final state */
    struct trace_checkpoint *ckpt;
    size_t nckpt, capckpt;
    /* outcome */
    uint64_t steps;            /* steps run (m->st.steps at the end) */
    bool violation;            /* result: "violation" (else "ok") */
    struct violation viol;     /* the first violation, when violation */
};

/* ---- In-memory trace -------------------------------------------------- */
void trace_init(struct trace *t);
void trace_free(struct trace *t);
/* Append a choice / a checkpoint. Return 0 or -1 (out of memory). */
int trace_push_choice(struct trace *t, uint32_t v);
int trace_push_checkpoint(struct trace *t, uint64_t step, uint64_t hash);

/* ---- Choice encoding (FORMAT.md "choices") ----------------------------
 * LEB128 varints of the values, then base64 (RFC 4648, padded). */
/* Encode: returns a malloc'd NUL-terminated base64 string, or NULL. */
char *trace_encode_choices(const uint32_t *v, size_t n);
/* Decode: returns 0 with a malloc'd array in *out (count *n), or -1 with a
 * message in err naming the character (base64) or byte (varint) offset. */
int trace_decode_choices(const char *b64, size_t len, uint32_t **out, size_t *n,
                         char *err, size_t errlen);

/* ---- Files ------------------------------------------------------------ */
/* Parse and validate a trace held in memory; name is used in messages.
 * Returns 0, or -1 with one line "NAME: place: what" in err (place = a
 * field path such as config.cpus, or "byte N"). Never aborts on input. */
int trace_parse(struct trace *t, const char *name, const char *buf, size_t len,
                char *err, size_t errlen);
/* Read a file (refusing files over TRACE_MAX_FILE_BYTES) and parse it. */
int trace_read(struct trace *t, const char *path, char *err, size_t errlen);
/* Serialise (malloc'd JSON text, NULL on out of memory). */
char *trace_to_json(const struct trace *t);
/* Write to path. Returns 0 or -1 with "PATH: reason" in err. */
int trace_write(const struct trace *t, const char *path, char *err, size_t errlen);

/* Names used in the file for the config enums; NULL for unknown values. */
const char *trace_sched_name(enum sched_kind k);
const char *trace_check_name(enum check_mode c);

/* The mutant a KCore ELF path names by its file name: "" for kcore.elf,
 * NAME for kcore-NAME.elf (NAME of [a-z0-9_]), else NULL. Copies it into
 * out (TRACE_MUTANT_MAX bytes) and returns out, or returns NULL. */
const char *trace_mutant_of_path(const char *path, char out[TRACE_MUTANT_MAX]);
/* Whether s is a valid kcore_mutant value ("" or [a-z0-9_]{1,63}). */
bool trace_mutant_valid(const char *s);
/* Copy src's kcore identity (digest, mutant) and scenario (path, digest,
 * embedded text) into dst. Returns 0 or -1 (out of memory). */
int trace_copy_sources(struct trace *dst, const struct trace *src);

/* A short name of a DESIGN.md invariant ("TLB isolation" for 3; 0 is a
 * KCore fault or panic), or "unknown". */
const char *trace_invariant_name(int invariant);

/* ---- Record, replay, shrink (hypsim_traces: needs hypsim_model) --------- */

/* What a CPU's principal has in flight in KCore: the hypercall or stage-2
 * fault that made it enter KCore, and the step it entered at. */
struct trace_inflight {
    bool active;
    bool fault;                /* a stage-2 fault (else a hypercall) */
    label_t who;               /* LABEL_HOST or LABEL_VM(n) */
    uint64_t hc, arg[4];       /* the hypercall and x1..x4 */
    uint64_t ipa;              /* the fault */
    bool write;
    uint64_t since;            /* the step that entered KCore */
};

/* Per-CPU in-flight state, kept from the CPUs' mode changes after every
 * step (trace_watch_step); recorders and replays keep one. */
struct trace_watch {
    bool init;
    struct trace_inflight cpu[HV_MAX_CPUS];
    uint8_t mode[HV_MAX_CPUS];     /* enum cpu_mode after the previous step */
    unsigned vm[HV_MAX_CPUS];
    uint64_t boot_end;             /* first step after which every CPU has been
                                      out of KCore once (0: not yet) */
    uint64_t left_kcore;           /* bit i: CPU i has left KCore (i < 64) */
};
/* Start watching m (before its first step, or at any point). */
void trace_watch_init(struct trace_watch *w, const struct machine *m);
/* After a step of CPU cpu. */
void trace_watch_step(struct trace_watch *w, const struct machine *m, unsigned cpu);
/* "host hvc donate(0x0, 0x2049, 0x5, 0x0) since step 78200" or "VM 0
 * stage-2 fault (write ipa 0x5000) since step 9". */
void trace_inflight_describe(const struct trace_inflight *f, char *buf, size_t len);

/* Recorder: installed on a machine before its first step. */
struct trace_recorder {
    struct trace *t;
    uint64_t every;
    bool step_start;           /* no choice made yet in the current step */
    bool rr_roll;              /* insert the per-step event roll (FORMAT.md) */
    bool oom;
    struct trace_watch watch;  /* hypercalls in flight (reports) */
};

/* Start recording m's run into t (which is reset): copies the config,
 * hashes the KCore ELF, names its mutant (trace_mutant_of_path), embeds the
 * scenario file, installs m's record_hook and step_hook. every = K (0:
 * TRACE_HASH_EVERY_DEFAULT). Returns 0, or -1 with a message (unreadable
 * KCore or scenario file). */
int trace_record_begin(struct trace_recorder *r, struct trace *t, struct machine *m,
                       uint64_t every, char *err, size_t errlen);
/* Finish: the final checkpoint, step count and outcome; removes the hooks.
 * Returns 0, or -1 if memory ran out while recording. */
int trace_record_end(struct trace_recorder *r, struct machine *m);

/* Check that a KCore ELF is the one the trace was recorded against.
 * Returns 0, 1 when the digests differ (message in err), -1 when the file
 * cannot be read. Same for the scenario file (0 when the trace has none). */
int trace_check_kcore(const struct trace *t, const char *path, char *err, size_t errlen);
int trace_check_scenario(const struct trace *t, const char *path, char *err, size_t errlen);

/* machine_init for a replay of t against the KCore ELF kcore_path: t's
 * config, and t's embedded scenario when it has one (no file is read; the
 * machine's cfg.scenario_path still names the recorded file). Returns 0,
 * or -1 with a one-line message (bad config, image or scenario). */
int trace_machine_init(struct machine *m, const struct trace *t, const char *kcore_path,
                       char *err, size_t errlen);

enum trace_replay_status {
    TRACE_REPLAY_OK,           /* ran to the end of the trace (the outcome is in m) */
    TRACE_REPLAY_IMPOSSIBLE,   /* a choice >= n: bad trace (exit 2) */
    TRACE_REPLAY_DIVERGED,     /* hash, outcome or choice count differ */
    TRACE_REPLAY_NOMEM,
};

struct trace_replay_opts {
    bool verify;               /* compare state hashes at each checkpoint */
    bool lenient;              /* shrink: choice mod n; out of choices ends the run */
    /* shrink: the second choice of every step (the CPU pick, FORMAT.md) is
     * a CPU number, not an index among the CPUs that can run: it is
     * mapped to that CPU's index (modulo n when that CPU cannot run), so
     * dropping steps does not change which CPU later steps run on. */
    bool cpu_ids;
    /* When set: every value handed to the machine (consumed or padded), in
     * order, with the CPU picks written as CPU numbers (the cpu_ids form),
     * at most ids_out_cap of them; step_first then counts in ids_out. */
    uint32_t *ids_out;
    size_t ids_out_cap;
    /* shrink: step-aligned replay. Step j of this replay (counted from the
     * machine's step when the replay starts) takes its choices from
     * [step_bounds[j], step_bounds[j+1]) only: choices it does not use are
     * skipped, choices it needs beyond them are padded (999 for the event
     * roll - run a CPU -, else 0), and the replay ends after nbound_steps
     * steps. Dropping a step then never shifts another step's choices. */
    const size_t *step_bounds;
    uint64_t nbound_steps;
    /* After the bounded steps, up to extra_steps more, every choice padded
     * (roll: run a CPU; CPU pick: round robin; others 0): the work that
     * dropped steps delayed can finish. */
    uint64_t extra_steps;
    uint64_t max_steps;        /* 0: t->steps */
    struct trace *rerecord;    /* when set: record the choices actually made */
    /* When set: step_first[s] = index of the first choice of step s, for
     * s <= steps run (and < step_first_cap); shrink uses it to drop steps. */
    size_t *step_first;
    size_t step_first_cap;
    /* Called after every step (logs). */
    void (*on_step)(void *arg, const struct machine *m, unsigned cpu, enum step_kind k);
    void *on_step_arg;
    /* When set: kept up to date (hypercalls in flight, end of boot). */
    struct trace_watch *watch;
    /* When set: the run stops when it is set (a signal handler). */
    volatile sig_atomic_t *stop;
};

struct trace_replay_result {
    enum trace_replay_status status;
    uint64_t step;             /* where it stopped diverging / the impossible choice */
    size_t choices_used;
    bool exhausted;            /* ran out of recorded choices (lenient mode) */
    char msg[512];             /* one line, without the file name */
};

/* Replay t on m (initialised with t's config; the caller picks the KCore
 * ELF). Installs and removes m's hooks. Strict mode: a choice >= n is
 * TRACE_REPLAY_IMPOSSIBLE naming the step; running out of choices, choices
 * left over, or an outcome differing from the recorded one are
 * TRACE_REPLAY_DIVERGED; with verify, so is the first checkpoint whose
 * state hash differs. Returns r->status. */
enum trace_replay_status trace_replay(struct machine *m, const struct trace *t,
                                      const struct trace_replay_opts *o,
                                      struct trace_replay_result *r);

struct trace_shrink_stats {
    size_t choices_before, choices_after;
    uint64_t steps_before, steps_after;
    uint64_t steps_now;        /* the best candidate so far (progress) */
    uint64_t boot_steps;       /* the fixed prefix kept as recorded (0: none) */
    unsigned tests;            /* candidate replays run */
    double seconds;
    const char *phase;         /* what the search is doing (progress) */
    int interrupted;           /* the signal that stopped the search, or 0 */
    bool timed_out;            /* max_seconds ran out */
};

struct trace_shrink_opts {
    double max_seconds;        /* 0: no limit */
    /* When it becomes nonzero (a SIGINT/SIGTERM handler sets it to the
     * signal), the search ends and the best trace so far is the result. */
    volatile sig_atomic_t *stop;
    /* Called now and then (a few times a second at most) with the stats. */
    void (*progress)(void *arg, const struct trace_shrink_stats *st);
    void *progress_arg;
    /* Shrink KCore's boot too. By default the steps up to the end of boot
     * (every CPU has entered the host once: trace_watch.boot_end) are a
     * fixed prefix, replayed once per process and forked from. */
    bool with_boot;
};

/* Delta-debug t's choices to a shorter trace that still violates the same
 * invariant; out gets a strict, re-recorded trace (every choice < its n,
 * fresh checkpoints). The search, after the fixed boot prefix: drop all
 * steps of one CPU at a time, all hardware events, then chunks of steps
 * (ddmin, halving), then chunks of single choices; every accepted
 * candidate is cut after its violation. kcore_path is the ELF to run.
 * Returns 0 (also when stopped early: st->interrupted / st->timed_out say
 * so, out is the best so far), or -1 with a message (t has no violation,
 * or it does not reproduce). */
int trace_shrink_with(const struct trace *t, const char *kcore_path,
                      const struct trace_shrink_opts *o, struct trace *out,
                      struct trace_shrink_stats *st, char *err, size_t errlen);
/* The same with only a time limit (max_seconds, 0: none). */
int trace_shrink(const struct trace *t, const char *kcore_path, double max_seconds,
                 struct trace *out, struct trace_shrink_stats *st, char *err, size_t errlen);

#endif
