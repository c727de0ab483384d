/* Detection benchmark: how good xentcheck is at catching bugs.
 *
 * Runs the default check (seed 1, the default case count and time budget of
 * checker.h, isolated executor) on every mutant of targets/mutants/ and
 * prints, per mutant: caught or not, the property that caught it first,
 * after how many cases, the time to that first detection and the total
 * time of the run. Exit status 0 when every mutant is caught, 1 when one is
 * missed, 2 on bad usage or a harness error.
 *
 * usage: detect [MUTANT]...   (names with or without the "mutant." prefix;
 *                              none = every mutant)
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checker.h"
#include "registry.h"
#include "report.h"

typedef struct detection {
    int caught;
    const char *property;   /* owned by the report */
    uint64_t cases;         /* cases run up to and including the first failure */
    double first_s;         /* seconds to the first failure; < 0 = none */
    double total_s;
} detection;

typedef struct first_seen {
    double elapsed;         /* < 0 until a failure is reported */
} first_seen;

/* Progress callback: timestamps the case after which failures first appear. */
static void on_progress(void *ctx, size_t done, size_t total, size_t failures,
                        double elapsed, double budget)
{
    first_seen *f = ctx;
    (void)done;
    (void)total;
    (void)budget;
    if (failures > 0 && f->elapsed < 0)
        f->elapsed = elapsed;
}

/* The failure of the earliest case (the first recorded among equals). */
static const xc__failure *first_failure(const xc__target_report *t)
{
    const xc__failure *best = NULL;
    for (size_t i = 0; i < t->nfailures; i++)
        if (!best || t->failures[i].case_index < best->case_index)
            best = &t->failures[i];
    return best;
}

static int measure(const xc__entry *e, xc__target_report *rep, detection *d)
{
    first_seen seen = {-1};
    xc__check_config cfg = {.seed = 1, .log = NULL, .progress = on_progress,
                            .progress_ctx = &seen};
    if (xc__check_target(e, &cfg, rep) != 0)
        return -1;
    const xc__failure *f = first_failure(rep);
    *d = (detection){.caught = !rep->pass, .first_s = seen.elapsed,
                     .total_s = rep->timing.seconds};
    if (f) {
        d->property = f->property;
        d->cases = f->case_index + 1;
    }
    return 0;
}

static void print_header(void)
{
    printf("%-30s %-6s %-22s %6s %9s %9s\n", "mutant", "caught", "first property",
           "cases", "first s", "total s");
}

static void print_row(const char *name, const detection *d)
{
    char first[32] = "-";
    if (d->first_s >= 0)
        snprintf(first, sizeof first, "%.3f", d->first_s);
    printf("%-30s %-6s %-22s %6" PRIu64 " %9s %9.3f\n", name, d->caught ? "yes" : "NO",
           d->property ? d->property : "-", d->cases, first, d->total_s);
    fflush(stdout);
}

/* Does NAME (with or without "mutant.") select entry E? No names: all. */
static int selected(const xc__entry *e, int argc, char **argv)
{
    const char *full = e->target->name, *bare = strchr(full, '.');
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], full) == 0 || (bare && strcmp(argv[i], bare + 1) == 0))
            return 1;
    return 0;
}

/* Checks one mutant and prints its row; -1 on a harness error. */
static int run_one(const xc__entry *e, size_t *caught, size_t *missed)
{
    xc__target_report rep;
    detection d;
    int rc = measure(e, &rep, &d);
    if (rc == 0) {
        print_row(e->target->name, &d);
        *(d.caught ? caught : missed) += 1;
    } else {
        fprintf(stderr, "detect: harness error while checking %s\n", e->target->name);
    }
    xc__target_report_free(&rep);
    return rc;
}

static int run_all(const xc__registry *reg, int argc, char **argv)
{
    size_t caught = 0, missed = 0, ran = 0;
    int err = 0;
    print_header();
    for (size_t i = 0; i < xc__registry_count(reg) && !err; i++) {
        const xc__entry *e = xc__registry_at(reg, i);
        if (!e->is_mutant || !selected(e, argc, argv))
            continue;
        ran++;
        err = run_one(e, &caught, &missed) != 0;
    }
    printf("%zu caught, %zu missed\n", caught, missed);
    if (err || ran == 0) {
        if (ran == 0)
            fprintf(stderr, "detect: no mutant matches the names given\n");
        return 2;
    }
    return missed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: %s [MUTANT]...\n", argv[0]);
        return 0;
    }
    xc__registry *reg = xc__registry_new(1);
    if (!reg) {
        fprintf(stderr, "detect: out of memory\n");
        return 2;
    }
    int rc = run_all(reg, argc, argv);
    xc__registry_free(reg);
    return rc;
}
