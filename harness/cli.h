/* The command-line tool: `xentcheck list | run | replay | report`.
 *
 * cli.c dispatches and holds what the commands share (messages, strict
 * number parsing, option errors, the registry with plugins); each command
 * lives in its own file (cli_list.c, cli_run.c, cli_replay.c, cli_report.c). Commands
 * return the exit status and never call exit(): main() returns it.
 *
 * Exit status: 0 every selected target holds (replay: no failure
 * reproduces), 1 a target failed (replay: a failure reproduces), 2 bad
 * usage, unreadable input, a bad plugin or an unknown target.
 */
#ifndef XC_HARNESS_CLI_H
#define XC_HARNESS_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "report.h"

enum { XC__EXIT_PASS = 0, XC__EXIT_FAIL = 1, XC__EXIT_USAGE = 2 };

#ifndef XC_VERSION_STRING
#define XC_VERSION_STRING "0.0.0"
#endif

/* The whole tool: ARGV as main() received it. Returns the exit status. */
int xc__cli_main(int argc, char **argv);

/* Commands: ARGV[0] is the command name, options follow. */
int xc__cli_list(int argc, char **argv);
int xc__cli_run(int argc, char **argv);
int xc__cli_replay(int argc, char **argv);
int xc__cli_report(int argc, char **argv);

/* A growable list of borrowed strings (option values point into argv). */
typedef struct xc__cli_strings {
    const char **items;
    size_t count, cap;
} xc__cli_strings;

int xc__cli_strings_add(xc__cli_strings *l, const char *s);
void xc__cli_strings_free(xc__cli_strings *l);

/* One line on stderr, prefixed "xentcheck: ". */
void xc__cli_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Report the option error getopt_long just returned ('?' or ':') for
 * command CMD and return XC__EXIT_USAGE. */
int xc__cli_option_error(const char *cmd, int ret, char **argv);

/* Strict parsers of option values: the whole string must be consumed and
 * be in range, else an error naming OPTION is printed and -1 returned. */
int xc__cli_parse_u64(const char *option, const char *s, uint64_t *out);
int xc__cli_parse_count(const char *option, const char *s, size_t *out);
int xc__cli_parse_positive(const char *option, const char *s, double *out);

/* A registry with the built-in targets (and mutants when MUTANTS) plus
 * every plugin in PLUGINS; NULL after printing why. */
xc__registry *xc__cli_registry(const xc__cli_strings *plugins, int mutants);

/* Is NAME one of the mutant targets? (For a helpful "add --mutants".) */
int xc__cli_is_mutant_name(const char *name);

/* Check shard JOB (of the N given to xc__cli_run_jobs) into OUT, a fresh
 * report with its run fields set; 0, or -1 on a harness error. */
typedef int (*xc__cli_shard_fn)(void *ctx, size_t job, xc__run_report *out);

/* Run FN for jobs 0..JOBS-1 in as many worker processes at once and merge
 * their reports into MERGED (the caller frees it, also after an error).
 * 0, or -1 with the reason in ERR (a worker failed, reports conflict). */
int xc__cli_run_jobs(size_t jobs, xc__cli_shard_fn fn, void *ctx,
                     xc__run_report *merged, char *err, size_t errlen);

/* S quoted for a POSIX shell when it needs quoting, appended to BUF
 * (capacity LEN, NUL-terminated); -1 when it does not fit. */
int xc__cli_append_quoted(char *buf, size_t len, const char *s);

#endif
