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

struct trace {
    struct machine_config cfg;
    uint8_t kcore_sha256[SHA256_BYTES];
    bool has_scenario_sha256;
    uint8_t scenario_sha256[SHA256_BYTES];
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

/* ---- Record, replay, shrink (hypsim_traces: needs hypsim_model) --------- */

/* Recorder: installed on a machine before its first step. */
struct trace_recorder {
    struct trace *t;
    uint64_t every;
    bool step_start;           /* no choice made yet in the current step */
    bool rr_roll;              /* insert the per-step event roll (FORMAT.md) */
    bool oom;
};

/* Start recording m's run into t (which is reset): copies the config,
 * hashes the KCore ELF and the scenario file, installs m's record_hook and
 * step_hook. every = K (0: TRACE_HASH_EVERY_DEFAULT). Returns 0, or -1
 * with a message (unreadable KCore or scenario file). */
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

enum trace_replay_status {
    TRACE_REPLAY_OK,           /* ran to the end of the trace (the outcome is in m) */
    TRACE_REPLAY_IMPOSSIBLE,   /* a choice >= n: bad trace (exit 2) */
    TRACE_REPLAY_DIVERGED,     /* hash, outcome or choice count differ */
    TRACE_REPLAY_NOMEM,
};

struct trace_replay_opts {
    bool verify;               /* compare state hashes at each checkpoint */
    bool lenient;              /* shrink: choice mod n; out of choices ends the run */
    uint64_t max_steps;        /* 0: t->steps */
    struct trace *rerecord;    /* when set: record the choices actually made */
    /* When set: step_first[s] = index of the first choice of step s, for
     * s <= steps run (and < step_first_cap); shrink uses it to drop steps. */
    size_t *step_first;
    size_t step_first_cap;
    /* Called after every step (logs). */
    void (*on_step)(void *arg, const struct machine *m, unsigned cpu, enum step_kind k);
    void *on_step_arg;
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
    unsigned tests;            /* candidate replays run */
    double seconds;
};

/* Delta-debug t's choices (ddmin: drop chunks; cut after the violation) to a
 * shorter trace that still violates the same invariant; out gets a strict,
 * re-recorded trace (every choice < its n, fresh checkpoints). kcore_path is
 * the ELF to run. max_seconds bounds the search (0: none). Returns 0, or -1
 * with a message (t has no violation, or it does not reproduce). */
int trace_shrink(const struct trace *t, const char *kcore_path, double max_seconds,
                 struct trace *out, struct trace_shrink_stats *st, char *err, size_t errlen);

#endif
