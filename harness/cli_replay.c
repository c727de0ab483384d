/* `xentcheck replay`: re-run saved case files against their targets and
 * say whether each recorded failure reproduces. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes_case.h"
#include "casefile.h"
#include "checker.h"

static const char replay_help[] =
    "usage: xentcheck replay [--plugin PATH]... [--target NAME] [--mutants]\n"
    "                        [--tol-factor F] [--timeout S] [--quiet] FILE...\n"
    "\n"
    "Re-runs every property on each saved case file (format: corpus/README.md)\n"
    "against the target the file names, or NAME. A failure reproduces when\n"
    "the property recorded in the file fails again (any failure, when the\n"
    "file records none).\n"
    "\n"
    "A FILE that is not a case file is a fuzzer artifact: its bytes are\n"
    "decoded as xentcheck-fuzz decodes them (docs/fuzzing.md) for the target\n"
    "NAME, else $XENTCHECK_TARGET, else the first target of the first plugin,\n"
    "else xc.f32.shifted; any failure counts. Without --plugin, the plugin\n"
    "$XENTCHECK_PLUGIN is loaded, as the fuzzer does, and the class limit\n"
    "$XENTCHECK_FUZZ_MAX_H (1-128, default 64) applies as it does there.\n"
    "\n"
    "  -p, --plugin PATH   load the targets of the shared object PATH\n"
    "                      (repeatable)\n"
    "  -t, --target NAME   replay against NAME instead of the file's target\n"
    "  -m, --mutants       allow the deliberately broken mutant targets\n"
    "      --tol-factor F  multiply every derived error bound by F (default 1)\n"
    "      --timeout S     per-call timeout for hung targets, in seconds\n"
    "  -q, --quiet         do not print failure details on stderr\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 no failure reproduces, 1 a failure reproduces, 2 bad\n"
    "usage, an unreadable file, or a file that is not a case file.\n";

enum { OPT_TIMEOUT = 256, OPT_TOL_FACTOR };

typedef struct replay_opts {
    xc__cli_strings plugins;
    const char *target;
    double timeout_s, tol_factor;
    int mutants, quiet, help;
} replay_opts;

static const struct option replay_longs[] = {
    { "plugin", required_argument, NULL, 'p' },
    { "target", required_argument, NULL, 't' },
    { "mutants", no_argument, NULL, 'm' },
    { "tol-factor", required_argument, NULL, OPT_TOL_FACTOR },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int replay_option(replay_opts *o, int c, char **argv)
{
    switch (c) {
    case 'p': return xc__cli_strings_add(&o->plugins, optarg);
    case 't': o->target = optarg; return 0;
    case 'm': o->mutants = 1; return 0;
    case OPT_TOL_FACTOR:
        return xc__cli_parse_positive("--tol-factor", optarg, &o->tol_factor);
    case OPT_TIMEOUT:
        return xc__cli_parse_positive("--timeout", optarg, &o->timeout_s);
    case 'q': o->quiet = 1; return 0;
    case 'h': o->help = 1; return 0;
    default: xc__cli_option_error("replay", c, argv); return -1;
    }
}

/* Options; FILE operands are left at ARGV[optind..]. */
static int parse_replay(int argc, char **argv, replay_opts *o)
{
    int c;
    optind = 0;   /* GNU: 0 re-initialises getopt for a fresh argv */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:t:mqh", replay_longs, NULL)) != -1)
        if (replay_option(o, c, argv) != 0)
            return XC__EXIT_USAGE;
    if (!o->help && optind >= argc) {
        xc__cli_error("replay: no case file given (see 'xentcheck replay --help')");
        return XC__EXIT_USAGE;
    }
    return XC__EXIT_PASS;
}

/* Fuzzer artifacts are small; anything larger is not one. */
#define ARTIFACT_MAX ((size_t)1 << 24)

/* The whole file PATH in *LEN bytes (malloc'd), or NULL after an error. */
static unsigned char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    int ok = size >= 0 && (size_t)size <= ARTIFACT_MAX && fseek(f, 0, SEEK_SET) == 0;
    unsigned char *buf = ok ? malloc(size ? (size_t)size : 1) : NULL;
    *len = buf ? fread(buf, 1, (size_t)size, f) : 0;
    if (f)
        fclose(f);
    if (!buf || *len != (size_t)size) {
        xc__cli_error("%s: cannot read the file as a fuzzer artifact", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* The first plugin given, or $XENTCHECK_PLUGIN. */
static const char *first_plugin(const replay_opts *o)
{
    return o->plugins.count ? o->plugins.items[0] : getenv("XENTCHECK_PLUGIN");
}

/* Decode the fuzzer artifact PATH for the target the fuzzer would pick. */
static xc__case *read_artifact(const xc__registry *reg, const replay_opts *o,
                               const char *path, xc__case_meta *meta)
{
    const char *name = o->target ? o->target : getenv("XENTCHECK_TARGET");
    const xc__entry *e = xc__bytes_target(reg, name, first_plugin(o));
    if (!e) {
        xc__cli_error("%s: not a case file, and no target '%s' to decode it as a "
                      "fuzzer artifact for (see 'xentcheck list')", path,
                      name && *name ? name : XC__BYTES_DEFAULT_TARGET);
        return NULL;
    }
    char err[256];
    xc__bytes_config cfg = xc__bytes_config_for(e->target);
    if (xc__bytes_config_env(&cfg, err, sizeof err) != 0) {
        xc__cli_error("%s", err);
        return NULL;
    }
    size_t len;
    unsigned char *bytes = read_bytes(path, &len);
    xc__case *c = bytes ? xc__bytes_to_case(bytes, len, &cfg) : NULL;
    free(bytes);
    snprintf(meta->target, sizeof meta->target, "%s", e->target->name);
    meta->property[0] = 0;
    return c;
}

static xc__case *read_case(const xc__registry *reg, const replay_opts *o,
                           const char *path, xc__case_meta *meta)
{
    char err[512];
    xc__case *c = xc__casefile_read(path, meta, err, sizeof err);
    if (!c && strstr(err, "not a xentcheck case file"))
        return read_artifact(reg, o, path, meta);
    if (!c)
        xc__cli_error("%s", err);
    return c;
}

static const xc__entry *case_target(const xc__registry *reg,
                                    const replay_opts *o, const char *path,
                                    const xc__case_meta *meta)
{
    const char *name = o->target ? o->target : meta->target;
    const xc__entry *e = *name ? xc__registry_find(reg, name) : NULL;
    if (!*name)
        xc__cli_error("%s: the file names no target; give one with --target",
                      path);
    else if (!e && !o->mutants && xc__cli_is_mutant_name(name))
        xc__cli_error("%s: '%s' is a mutant; add --mutants to replay it", path,
                      name);
    else if (!e)
        xc__cli_error("%s: unknown target '%s' (see 'xentcheck list')", path,
                      name);
    return e;
}

static int failed_property(const xc__target_report *t, const char *property)
{
    for (size_t i = 0; i < t->nfailures; i++)
        if (t->failures[i].property && strcmp(t->failures[i].property, property) == 0)
            return 1;
    return 0;
}

/* Print the outcome; 1 when the recorded failure reproduces. */
static int report_outcome(const char *path, const xc__target_report *t,
                          const xc__case_meta *meta)
{
    int again = *meta->property ? failed_property(t, meta->property)
                                : t->nfailures > 0;
    const char *prop = *meta->property ? meta->property : "any property";
    if (again)
        printf("REPRODUCED %s: %s fails %s\n", path, t->name, prop);
    else if (t->nfailures > 0)
        printf("NOT REPRODUCED %s: %s holds %s, but fails %s\n", path, t->name,
               prop, t->failures[0].property);
    else
        printf("NOT REPRODUCED %s: %s holds %s\n", path, t->name, prop);
    fflush(stdout);
    return again;
}

static int replay_case(const xc__entry *e, const xc__case *c, const char *path,
                       const xc__case_meta *meta, const replay_opts *o)
{
    xc__check_config cfg = { .seed = c->seed, .timeout_s = o->timeout_s,
                             .tol_factor = o->tol_factor,
                             .log = o->quiet ? NULL : stderr };
    xc__target_report t = { 0 };
    int rc = xc__check_case(e, c, &cfg, &t);
    if (rc == -2)
        xc__cli_error("%s: target '%s' does not support this case (dtype, "
                      "caps or classes)", path, e->target->name);
    else if (rc != 0)
        xc__cli_error("%s: could not check the case", path);
    else
        rc = report_outcome(path, &t, meta) ? XC__EXIT_FAIL : XC__EXIT_PASS;
    xc__target_report_free(&t);
    return rc == 0 || rc == XC__EXIT_FAIL ? rc : XC__EXIT_USAGE;
}

static int replay_file(const xc__registry *reg, const replay_opts *o,
                       const char *path)
{
    xc__case_meta meta;
    xc__case *c = read_case(reg, o, path, &meta);
    const xc__entry *e = c ? case_target(reg, o, path, &meta) : NULL;
    int rc = e ? replay_case(e, c, path, &meta, o) : XC__EXIT_USAGE;
    xc__case_free(c);
    return rc;
}

/* Every file is replayed; the worst status wins (2 over 1 over 0). */
static int replay_all(replay_opts *o, int nfiles, char **files)
{
    const char *env_plugin = getenv("XENTCHECK_PLUGIN");
    if (!o->plugins.count && env_plugin && *env_plugin &&
        xc__cli_strings_add(&o->plugins, env_plugin) != 0)
        return XC__EXIT_USAGE;
    xc__registry *reg = xc__cli_registry(&o->plugins, o->mutants);
    int worst = XC__EXIT_PASS;
    if (!reg)
        return XC__EXIT_USAGE;
    for (int i = 0; i < nfiles; i++) {
        int rc = replay_file(reg, o, files[i]);
        worst = rc > worst ? rc : worst;
    }
    xc__registry_free(reg);
    return worst;
}

int xc__cli_replay(int argc, char **argv)
{
    replay_opts o = { 0 };
    int rc = parse_replay(argc, argv, &o);
    if (rc == XC__EXIT_PASS && o.help)
        fputs(replay_help, stdout);
    else if (rc == XC__EXIT_PASS)
        rc = replay_all(&o, argc - optind, argv + optind);
    xc__cli_strings_free(&o.plugins);
    return rc;
}
