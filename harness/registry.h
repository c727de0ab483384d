/* Registry: the built-in targets and those loaded from plugins.
 *
 * Built-in targets come from one plain table (targets/builtin.c, which
 * defines xc__builtin_targets()); mutants (deliberately broken targets) live
 * in a separate table and are only listed when asked for. Plugins are shared
 * objects exporting XC_PLUGIN_SYMBOL; every target they export is validated
 * before use. The registry owns the dlopen handles; target pointers stay
 * valid until xc__registry_free().
 */
#ifndef XC_HARNESS_REGISTRY_H
#define XC_HARNESS_REGISTRY_H

#include <stddef.h>

#include "xentcheck/target.h"

typedef struct xc__registry xc__registry;

/* A known finding: a genuine defect of a real library that its target
 * shows. The target is expected to fail exactly PROPERTIES (NULL-ended);
 * CASE_FILE (relative to the source tree) is a committed case that
 * reproduces it with `xentcheck replay`. */
typedef struct xc__finding {
    const char *target;
    const char *reason;            /* one paragraph: the defect and its cause */
    const char *const *properties; /* the properties it fails, NULL-ended */
    const char *case_file;         /* e.g. "corpus/findings/x.case" */
} xc__finding;

typedef struct xc__entry {
    const xc_target *target;
    const char *origin;  /* "builtin", "mutant" or the plugin path */
    int is_mutant;
    const xc__finding *finding;  /* NULL unless a known finding */
} xc__entry;

/* Defined in targets/: the tables of built-in and mutant targets. */
const xc_target *xc__builtin_targets(size_t *count);
const xc_target *xc__mutant_targets(size_t *count);
/* Defined in targets/lib/: adapters to real libraries built in (SLEEF,
 * oneDNN, ...); count 0 when none is. */
const xc_target *xc__library_targets(size_t *count);
/* Defined in targets/lib/registry_libs.c: ready library target T for a
 * check before the check loop forks its worker (an adapter that loads its
 * library on demand loads it here). */
void xc__library_prepare(const xc_target *t);
/* Defined in targets/lib/findings.c: the known findings of those targets
 * (only of adapters built in). */
const xc__finding *xc__library_findings(size_t *count);

/* A registry holding the built-in targets (and the mutants when
 * WITH_MUTANTS). NULL on out of memory. */
xc__registry *xc__registry_new(int with_mutants);
void xc__registry_free(xc__registry *reg);

/* Load PATH and register its targets. On failure returns non-zero and writes
 * a one-line reason (naming PATH and the offending target) into ERR. */
int xc__registry_load_plugin(xc__registry *reg, const char *path, char *err,
                             size_t errlen);

/* Validate one target descriptor: abi_version, name syntax, dtype, caps
 * within XC_CAPS_ALL_V1, grad present, loss present iff XC_CAP_LOSS,
 * consistent caps (IGNORE_INDEX needs INDEX_LABELS, UNNORMALIZED needs
 * PROB_LABELS, at least one label kind). 0 = valid, else a reason in ERR. */
int xc__target_validate(const xc_target *t, char *err, size_t errlen);

size_t xc__registry_count(const xc__registry *reg);
const xc__entry *xc__registry_at(const xc__registry *reg, size_t i);
/* NULL when no target has that name. */
const xc__entry *xc__registry_find(const xc__registry *reg, const char *name);

/* "index,prob,batch,mean,loss,unnorm,weights,ignore" style list of CAPS. */
void xc__caps_format(uint32_t caps, char *buf, size_t len);

#endif
