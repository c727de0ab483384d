/* `xentcheck report merge | render`: reports from reports. merge combines
 * the report.json files of shards of one run; render writes other formats
 * from a report.json. Both exit 0 once written, 2 on bad usage or a
 * malformed report (the verdict stays in the report: `run` sets it).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "report_read.h"

static const char report_help[] =
    "usage: xentcheck report merge REPORT.json... -o OUT\n"
    "       xentcheck report render REPORT.json [--format LIST] [--report DIR]\n"
    "\n"
    "merge    combine the report.json files of shards of one run (same seed,\n"
    "         disjoint cases) into OUT, a report.json equal to the unsharded\n"
    "         run's apart from timings (OUT may be a directory: OUT/report.json)\n"
    "render   write the formats in LIST (default html,md,junit; json too) from\n"
    "         REPORT.json into DIR (default: the directory of REPORT.json)\n"
    "\n"
    "  -o, --output OUT     merge: where the merged report goes\n"
    "  -f, --format LIST    render: among json,junit,md,html\n"
    "  -r, --report DIR     render: the output directory\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 written, 2 bad usage or a malformed report.\n";

typedef struct report_opts {
    xc__cli_strings inputs;
    const char *output, *dir;
    int formats, help;
} report_opts;

static const struct option report_longs[] = {
    { "output", required_argument, NULL, 'o' },
    { "format", required_argument, NULL, 'f' },
    { "report", required_argument, NULL, 'r' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int report_option(report_opts *o, int c, char **argv)
{
    switch (c) {
    case 'o': o->output = optarg; return 0;
    case 'r': o->dir = optarg; return 0;
    case 'f':
        o->formats = xc__report_formats_parse(optarg);
        if (o->formats < 0)
            xc__cli_error("report: --format: '%s' is not a list of json, "
                          "junit, md, html", optarg);
        return o->formats < 0 ? -1 : 0;
    case 'h': o->help = 1; return 0;
    default: xc__cli_option_error("report", c, argv); return -1;
    }
}

static int parse_report(int argc, char **argv, report_opts *o)
{
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:f:r:h", report_longs, NULL)) != -1)
        if (report_option(o, c, argv) != 0)
            return XC__EXIT_USAGE;
    for (; optind < argc; optind++)
        if (xc__cli_strings_add(&o->inputs, argv[optind]) != 0) {
            xc__cli_error("out of memory");
            return XC__EXIT_USAGE;
        }
    return XC__EXIT_PASS;
}

/* Read every input; the first bad one ends it with its reason. */
static int read_all(const report_opts *o, xc__run_report *in)
{
    char err[512];
    for (size_t i = 0; i < o->inputs.count; i++) {
        if (xc__report_read_file(o->inputs.items[i], &in[i], err, sizeof err) != 0) {
            xc__cli_error("report: %s", err);
            return XC__EXIT_USAGE;
        }
    }
    return XC__EXIT_PASS;
}

static int is_dir(const char *path)
{
    struct stat st;
    size_t n = strlen(path);
    return (n > 0 && path[n - 1] == '/') ||
           (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

static int write_json(const xc__run_report *r, const char *output)
{
    char err[512];
    size_t n = strlen(output) + sizeof "/report.json";
    char *path = malloc(n);
    char *doc = xc__report_json(r);
    int rc = XC__EXIT_USAGE;
    if (!path || !doc)
        xc__cli_error("out of memory");
    else {
        snprintf(path, n, is_dir(output) ? "%s/report.json" : "%s", output);
        if (xc__write_file_atomic(path, doc, strlen(doc), err, sizeof err) != 0)
            xc__cli_error("report merge: cannot write: %s", err);
        else
            rc = XC__EXIT_PASS;
    }
    free(doc);
    free(path);
    return rc;
}

static int do_merge(const report_opts *o)
{
    char err[512];
    xc__run_report merged = { 0 };
    xc__run_report *in = calloc(o->inputs.count, sizeof *in);
    int rc = in ? read_all(o, in) : XC__EXIT_USAGE;
    if (!in)
        xc__cli_error("out of memory");
    if (rc == XC__EXIT_PASS &&
        xc__report_merge(in, o->inputs.count, &merged, err, sizeof err) != 0) {
        xc__cli_error("report merge: %s", err);
        rc = XC__EXIT_USAGE;
    }
    if (rc == XC__EXIT_PASS)
        rc = write_json(&merged, o->output);
    xc__run_report_free(&merged);
    for (size_t i = 0; in && i < o->inputs.count; i++)
        xc__run_report_free(&in[i]);
    free(in);
    return rc;
}

/* The directory part of PATH ("." when there is none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

static int do_render(const report_opts *o)
{
    char err[512];
    xc__run_report r = { 0 };
    char *dir = o->dir ? strdup(o->dir) : dir_of(o->inputs.items[0]);
    int rc = dir ? read_all(o, &r) : XC__EXIT_USAGE;
    if (!dir)
        xc__cli_error("out of memory");
    if (rc == XC__EXIT_PASS &&
        xc__report_write_all(&r, dir, o->formats, err, sizeof err) != 0) {
        xc__cli_error("report render: cannot write the report: %s", err);
        rc = XC__EXIT_USAGE;
    }
    xc__run_report_free(&r);
    free(dir);
    return rc;
}

static int check_usage(const char *sub, const report_opts *o)
{
    int merge = strcmp(sub, "merge") == 0;
    if (o->inputs.count == 0)
        xc__cli_error("report %s: no report.json given", sub);
    else if (merge && !o->output)
        xc__cli_error("report merge: -o OUT is required");
    else if (merge && (o->dir || o->formats))
        xc__cli_error("report merge: --report and --format belong to render");
    else if (!merge && o->inputs.count > 1)
        xc__cli_error("report render: one report.json at a time");
    else if (!merge && o->output)
        xc__cli_error("report render: -o belongs to merge (use --report DIR)");
    else
        return XC__EXIT_PASS;
    return XC__EXIT_USAGE;
}

static int run_sub(const char *sub, int argc, char **argv)
{
    report_opts o = { 0 };
    int rc = parse_report(argc, argv, &o);
    if (rc == XC__EXIT_PASS && o.help)
        fputs(report_help, stdout);
    else if (rc == XC__EXIT_PASS)
        rc = check_usage(sub, &o);
    if (rc == XC__EXIT_PASS && !o.help && strcmp(sub, "merge") == 0)
        rc = do_merge(&o);
    else if (rc == XC__EXIT_PASS && !o.help) {
        if (!o.formats)
            o.formats = XC__FMT_HTML | XC__FMT_MD | XC__FMT_JUNIT;
        rc = do_render(&o);
    }
    xc__cli_strings_free(&o.inputs);
    return rc;
}

int xc__cli_report(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
        fputs(report_help, stdout);
        return XC__EXIT_PASS;
    }
    if (!sub || (strcmp(sub, "merge") != 0 && strcmp(sub, "render") != 0)) {
        xc__cli_error("report: %s%s%s (merge or render; see 'xentcheck "
                      "report --help')", sub ? "unknown subcommand '" : "missing "
                      "subcommand", sub ? sub : "", sub ? "'" : "");
        return XC__EXIT_USAGE;
    }
    return run_sub(sub, argc - 1, argv + 1);
}
