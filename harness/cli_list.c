/* `xentcheck list`: the targets with dtype, origin, caps and summary. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "case.h"

static const char list_help[] =
    "usage: xentcheck list [--plugin PATH]... [--mutants]\n"
    "\n"
    "Lists the built-in targets and those of each plugin: name, dtype,\n"
    "origin (builtin, mutant or the plugin path), caps and summary.\n"
    "\n"
    "  -p, --plugin PATH  load the targets of the shared object PATH\n"
    "                     (repeatable)\n"
    "  -m, --mutants      also list the deliberately broken mutant targets\n"
    "  -h, --help         show this help\n";

typedef struct list_opts {
    xc__cli_strings plugins;
    int mutants;
    int help;
} list_opts;

static int parse_list(int argc, char **argv, list_opts *o)
{
    static const struct option longs[] = {
        { "plugin", required_argument, NULL, 'p' },
        { "mutants", no_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 0;   /* GNU: 0 re-initialises getopt for a fresh argv */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:mh", longs, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (xc__cli_strings_add(&o->plugins, optarg) != 0)
                return XC__EXIT_USAGE;
            break;
        case 'm': o->mutants = 1; break;
        case 'h': o->help = 1; break;
        default: return xc__cli_option_error("list", c, argv);
        }
    }
    if (optind < argc) {
        xc__cli_error("list: unexpected argument '%s'", argv[optind]);
        return XC__EXIT_USAGE;
    }
    return XC__EXIT_PASS;
}

/* Column widths: the longest name and caps list, so columns line up. */
static void widths(const xc__registry *reg, int *name_w, int *caps_w)
{
    char caps[256];
    size_t nw = 4, cw = 4;
    for (size_t i = 0; i < xc__registry_count(reg); i++) {
        const xc_target *t = xc__registry_at(reg, i)->target;
        xc__caps_format(t->caps, caps, sizeof caps);
        nw = strlen(t->name) > nw ? strlen(t->name) : nw;
        cw = strlen(caps) > cw ? strlen(caps) : cw;
    }
    *name_w = (int)nw;
    *caps_w = (int)cw;
}

static void print_targets(const xc__registry *reg)
{
    char caps[256];
    int nw, cw;
    widths(reg, &nw, &cw);
    printf("%-*s  %-5s  %-8s  %-*s  %s\n", nw, "NAME", "DTYPE", "ORIGIN", cw,
           "CAPS", "SUMMARY");
    for (size_t i = 0; i < xc__registry_count(reg); i++) {
        const xc__entry *e = xc__registry_at(reg, i);
        xc__caps_format(e->target->caps, caps, sizeof caps);
        printf("%-*s  %-5s  %-8s  %-*s  %s\n", nw, e->target->name,
               xc__dtype_name(e->target->dtype), e->origin, cw, caps,
               e->target->summary ? e->target->summary : "");
    }
}

int xc__cli_list(int argc, char **argv)
{
    list_opts o = { 0 };
    int rc = parse_list(argc, argv, &o);
    if (rc == XC__EXIT_PASS && o.help) {
        fputs(list_help, stdout);
    } else if (rc == XC__EXIT_PASS) {
        xc__registry *reg = xc__cli_registry(&o.plugins, o.mutants);
        if (reg)
            print_targets(reg);
        else
            rc = XC__EXIT_USAGE;
        xc__registry_free(reg);
    }
    xc__cli_strings_free(&o.plugins);
    return rc;
}
