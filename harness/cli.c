/* Command dispatch, global options and what the commands share. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xentcheck/target.h"

static const char usage_text[] =
    "usage: xentcheck COMMAND [OPTIONS]\n"
    "       xentcheck --help | --version\n"
    "\n"
    "Checks implementations of the softmax-cross-entropy gradient.\n"
    "\n"
    "commands:\n"
    "  list     list the available targets\n"
    "  run      check targets with generated cases and write reports\n"
    "  replay   re-run saved case files against their targets\n"
    "  report   merge shard reports, render report.json in other formats\n"
    "  help     show the help of a command (xentcheck help run)\n"
    "\n"
    "exit status: 0 every selected target holds, 1 a target failed (replay:\n"
    "a failure reproduces), 2 bad usage, unreadable input, a bad plugin or an\n"
    "unknown target.\n";

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    { "list", xc__cli_list },
    { "run", xc__cli_run },
    { "replay", xc__cli_replay },
    { "report", xc__cli_report },
};

void xc__cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("xentcheck: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A long option is named from argv (glibc also sets optopt for a long
 * option missing its value); a short one from optopt. */
int xc__cli_option_error(const char *cmd, int ret, char **argv)
{
    const char *what = ret == ':' ? "needs a value" : "is not known";
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (strncmp(arg, "--", 2) == 0)
        xc__cli_error("%s: option '%.*s' %s (see 'xentcheck %s --help')", cmd,
                      (int)strcspn(arg, "="), arg, what, cmd);
    else
        xc__cli_error("%s: option '-%c' %s (see 'xentcheck %s --help')", cmd,
                      optopt ? optopt : '?', what, cmd);
    return XC__EXIT_USAGE;
}

int xc__cli_strings_add(xc__cli_strings *l, const char *s)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        const char **items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = s;
    return 0;
}

void xc__cli_strings_free(xc__cli_strings *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int all_in(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

/* Decimal or 0x hex; strtoull alone would take signs, blanks and octal. */
int xc__cli_parse_u64(const char *option, const char *s, uint64_t *out)
{
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    if (!all_in(digits, hex ? "0123456789abcdefABCDEF" : "0123456789")) {
        xc__cli_error("%s: '%s' is not an unsigned integer (decimal or 0x hex)",
                      option, s);
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, hex ? 16 : 10);
    if (errno == ERANGE) {
        xc__cli_error("%s: '%s' is larger than 2^64-1", option, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* A count of at least 1. */
int xc__cli_parse_count(const char *option, const char *s, size_t *out)
{
    uint64_t v;
    if (xc__cli_parse_u64(option, s, &v) != 0)
        return -1;
    if (v == 0 || v > SIZE_MAX) {
        xc__cli_error("%s: '%s' is out of range (1 to %zu)", option, s,
                      (size_t)SIZE_MAX);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* A finite number > 0 (seconds, factors). */
int xc__cli_parse_positive(const char *option, const char *s, double *out)
{
    char *end = NULL;
    double v = 0;
    int starts_ok = (*s >= '0' && *s <= '9') || *s == '.';
    if (starts_ok) {
        errno = 0;
        v = strtod(s, &end);
    }
    if (!starts_ok || *end != '\0' || errno == ERANGE || !isfinite(v) || v <= 0) {
        xc__cli_error("%s: '%s' is not a positive number", option, s);
        return -1;
    }
    *out = v;
    return 0;
}

xc__registry *xc__cli_registry(const xc__cli_strings *plugins, int mutants)
{
    char err[512];
    xc__registry *reg = xc__registry_new(mutants);
    if (!reg) {
        xc__cli_error("out of memory");
        return NULL;
    }
    for (size_t i = 0; i < plugins->count; i++) {
        if (xc__registry_load_plugin(reg, plugins->items[i], err, sizeof err) != 0) {
            xc__cli_error("%s", err);
            xc__registry_free(reg);
            return NULL;
        }
    }
    return reg;
}

int xc__cli_is_mutant_name(const char *name)
{
    size_t n = 0;
    const xc_target *t = xc__mutant_targets(&n);
    for (size_t i = 0; t && i < n; i++)
        if (t[i].name && strcmp(t[i].name, name) == 0)
            return 1;
    return 0;
}

/* Characters a POSIX shell never interprets inside a word. */
#define SHELL_SAFE "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
                   "0123456789_./:=,+-@%"

static int put(char *buf, size_t len, size_t *used, const char *s, size_t n)
{
    if (*used + n >= len)
        return -1;
    memcpy(buf + *used, s, n);
    *used += n;
    buf[*used] = '\0';
    return 0;
}

int xc__cli_append_quoted(char *buf, size_t len, const char *s)
{
    size_t used = strlen(buf);
    if (all_in(s, SHELL_SAFE))
        return put(buf, len, &used, s, strlen(s));
    /* Single quotes; each ' inside becomes '\'' (close, quote, reopen). */
    int rc = put(buf, len, &used, "'", 1);
    for (const char *p = s; *p && rc == 0; p++)
        rc = *p == '\'' ? put(buf, len, &used, "'\\''", 4)
                        : put(buf, len, &used, p, 1);
    return rc == 0 ? put(buf, len, &used, "'", 1) : -1;
}

static void print_version(void)
{
    printf("xentcheck %s (plugin ABI %u)\n", XC_VERSION_STRING,
           (unsigned)XC_ABI_VERSION);
}

static int find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* `xentcheck help [COMMAND]`: the command's own --help. */
static int help_command(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stdout);
        return XC__EXIT_PASS;
    }
    int c = find_command(argv[1]);
    if (c < 0) {
        xc__cli_error("help: unknown command '%s'", argv[1]);
        return XC__EXIT_USAGE;
    }
    char *args[] = { argv[1], "--help", NULL };
    return commands[c].run(2, args);
}

int xc__cli_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return XC__EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        return XC__EXIT_PASS;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        print_version();
        return XC__EXIT_PASS;
    }
    if (strcmp(cmd, "help") == 0)
        return help_command(argc - 1, argv + 1);
    int c = find_command(cmd);
    if (c < 0) {
        xc__cli_error("%s '%s' (try 'xentcheck --help')",
                      cmd[0] == '-' ? "unknown option" : "unknown command", cmd);
        return XC__EXIT_USAGE;
    }
    return commands[c].run(argc - 1, argv + 1);
}
