/* The check loop: generate cases for one target, evaluate every property
 * that the target's caps allow, record failures (saving each failing case as
 * a case file) and accuracy statistics into an xc__target_report.
 */
#ifndef XC_HARNESS_CHECKER_H
#define XC_HARNESS_CHECKER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "case.h"
#include "casefile.h"
#include "registry.h"
#include "report.h"

typedef struct xc__check_config {
    uint64_t seed;           /* run seed; case i is a function of (seed, i) */
    size_t cases;            /* 0 = default (XC__CHECK_DEFAULT_CASES) */
    double time_budget_s;    /* per target; 0 = default (XC__CHECK_DEFAULT_TIME) */
    size_t max_classes;      /* largest H generated; 0 = default (65536) */
    double timeout_s;        /* per call; 0 = executor default */
    double tol_factor;       /* multiplies every derived bound; 0 = 1 */
    const char *case_dir;    /* where failing cases are saved; NULL = do not save */
    const char *replay_prefix; /* command prefix for replay lines, e.g.
                                  "xentcheck replay --plugin lib.so";
                                  NULL = "xentcheck replay" */
    FILE *log;               /* failures are printed here; NULL = silent */
    int inline_mode;         /* run targets in-process (no isolation) */
    int no_shrink;           /* 1 = save failing cases as found, unshrunk */
    /* Shard SHARD_INDEX of SHARD_COUNT (0 = unsharded): only the cases i
     * with i % SHARD_COUNT == SHARD_INDEX of the first CASES are checked;
     * the shards of one run partition its cases, and merging their reports
     * (xc__report_merge) gives the unsharded report. */
    size_t shard_index, shard_count;
    /* Called after every case (may be NULL): cases done of TOTAL, failures
     * so far, seconds elapsed and the time budget. */
    void (*progress)(void *ctx, size_t done, size_t total, size_t failures,
                     double elapsed, double budget);
    void *progress_ctx;
} xc__check_config;

/* Defaults sized so that a built-in target takes about 2 s on the 2-core
 * reference machine and stops by case count (deterministic report); the
 * time budget only cuts slower targets short (report: stopped_early). */
#define XC__CHECK_DEFAULT_CASES 400
#define XC__CHECK_DEFAULT_TIME 3.0
#define XC__CHECK_DEFAULT_MAX_CLASSES 65536

/* Check ENTRY's target with generated cases. Fills OUT (caller frees with
 * xc__target_report_free). Returns 0 when the check ran (whatever the
 * verdict), non-zero on a harness error (message printed to cfg->log). */
int xc__check_target(const xc__entry *entry, const xc__check_config *cfg,
                     xc__target_report *out);

/* Print failure F of TARGET to LOG as the check loop does: property,
 * seed, case and message, then (WITH_FILES) the case file and the replay
 * command. */
void xc__print_failure(FILE *log, const char *target, const xc__failure *f,
                       int with_files);

/* Evaluate every applicable property on one given case (replay). */
int xc__check_case(const xc__entry *entry, const xc__case *c,
                   const xc__check_config *cfg, xc__target_report *out);

#endif
