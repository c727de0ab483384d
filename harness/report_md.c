/* summary.md: one table row per target, then every failure with its
 * message in a code block and the command that replays it. Meant for a
 * CI job summary or a pull-request comment.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#endif
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "report_stats.h"

/* A table cell: '|' would end the cell and a newline the row. */
static void put_cell(FILE *f, const char *s)
{
    for (s = s ? s : ""; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void put_number(FILE *f, double v, int valid)
{
    if (valid && isfinite(v))
        fprintf(f, "%.3g", v);
    else
        fputs("-", f);
}

static void put_row(FILE *f, const xc__target_report *t)
{
    int have = t->accuracy.count > 0;
    fputs("| ", f);
    put_cell(f, t->name);
    const char *verdict = xc__verdict_text(t);
    fprintf(f, " | %s | %s | ", xc__dtype_name(t->dtype),
            strcmp(verdict, "fail") == 0 ? "**fail**" : verdict);
    put_number(f, t->accuracy.max_scaled, have);
    fputs(" | ", f);
    put_number(f, t->accuracy.max_ratio, have);
    fprintf(f, " | %zu%s | %.2f |\n", t->cases, t->stopped_early ? " (time)" : "",
            isfinite(t->timing.seconds) ? t->timing.seconds : 0.0);
}

/* A fence longer than any backtick run inside S, so S cannot close it. */
static size_t fence_len(const char *s)
{
    size_t run = 0, longest = 0;
    for (s = s ? s : ""; *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    return longest < 3 ? 3 : longest + 1;
}

static void put_fenced(FILE *f, const char *info, const char *s)
{
    size_t n = fence_len(s);
    const char *body = s ? s : "";
    size_t len = strlen(body);
    for (size_t i = 0; i < n; i++)
        fputc('`', f);
    fprintf(f, "%s\n%s%s", info, body, len && body[len - 1] == '\n' ? "" : "\n");
    for (size_t i = 0; i < n; i++)
        fputc('`', f);
    fputs("\n\n", f);
}

static void put_failure(FILE *f, const xc__target_report *t,
                        const xc__failure *fl)
{
    fputs("### ", f);
    put_cell(f, t->name);
    fputs(": ", f);
    put_cell(f, fl->property ? fl->property : "unknown");
    fprintf(f, "\n\nSeed 0x%llx, case %llu", (unsigned long long)fl->seed,
            (unsigned long long)fl->case_index);
    if (fl->case_file) {
        fputs(", saved as ", f);
        put_cell(f, fl->case_file);
    }
    fputs(".\n\n", f);
    put_fenced(f, "text", fl->message);
    fputs("Replay:\n\n", f);
    put_fenced(f, "sh", fl->replay ? fl->replay : "(no replay command)");
}

static void put_finding(FILE *f, const xc__target_report *t)
{
    fputs("- ", f);
    put_cell(f, t->name);
    fprintf(f, " (%s): ", t->expected_ok ? "failed as expected"
                                         : "did not fail as expected");
    put_cell(f, t->finding ? t->finding : "(no reason given)");
    fputs(" Expected to fail:", f);
    for (size_t i = 0; i < t->nexpected; i++) {
        fputs(i ? ", " : " ", f);
        put_cell(f, t->expected[i]);
    }
    fputs(t->nexpected ? ".\n" : " nothing.\n", f);
}

static void put_findings(FILE *f, const xc__run_report *r)
{
    int any = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        const xc__target_report *t = &r->targets[i];
        if (!t->finding && t->nexpected == 0)
            continue;
        if (!any)
            fputs("\n## Known findings\n\n", f);
        any = 1;
        put_finding(f, t);
    }
}

static size_t total_failures(const xc__run_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ntargets; i++)
        n += r->targets[i].nfailures;
    return n;
}

static void put_document(FILE *f, const xc__run_report *r)
{
    fputs("# xentcheck report\n\n", f);
    fputs("Tool version ", f);
    put_cell(f, r->tool_version ? r->tool_version : "unknown");
    fprintf(f, ", seed 0x%llx, %zu cases requested per target.\n\n",
            (unsigned long long)r->seed, r->cases_requested);
    fputs("| target | dtype | verdict | worst scaled error (u) | error/bound "
          "| cases | time (s) |\n", f);
    fputs("| --- | --- | --- | ---: | ---: | ---: | ---: |\n", f);
    for (size_t i = 0; i < r->ntargets; i++)
        put_row(f, &r->targets[i]);
    put_findings(f, r);
    if (total_failures(r) == 0) {
        fputs("\nNo failures.\n", f);
        return;
    }
    fputs("\n## Failures\n\n", f);
    for (size_t i = 0; i < r->ntargets; i++)
        for (size_t j = 0; j < r->targets[i].nfailures; j++)
            put_failure(f, &r->targets[i], &r->targets[i].failures[j]);
}

char *xc__report_markdown(const xc__run_report *r)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    if (!f)
        return NULL;
    put_document(f, r);
    if (fclose(f) != 0) {
        free(doc);
        return NULL;
    }
    return doc;
}
