/* index.html: one self-contained HTML5 page (no external resources): a
 * table comparing the targets, their accuracy per band of H, the plots
 * (report_html_plots.c), known findings, then every failure with its
 * (shrunk) case and replay command.
 *
 * The markup is also well-formed XML (void elements self-closed, every
 * character escaped, scripts as data: URIs or CDATA), so xmllint can check
 * it in the tests.
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
#include "report_html.h"
#include "report_stats.h"

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */

/* Length of the UTF-8 sequence at S if it encodes a character HTML allows
 * in text (no controls but tab and newline, no noncharacters), else 0. */
static size_t char_len(const unsigned char *s)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return (s[0] >= 0x20 && s[0] != 0x7f) || s[0] == '\t' || s[0] == '\n';
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) ||
        (cp & 0xfffe) == 0xfffe)
        return 0;
    return len;
}

void xc__html_put_text(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        size_t n = char_len(p);
        if (*p == '&')
            fputs("&amp;", f);
        else if (*p == '<')
            fputs("&lt;", f);
        else if (*p == '>')
            fputs("&gt;", f);
        else if (*p == '"')
            fputs("&quot;", f);
        else if (n)
            fwrite(p, 1, n, f);
        else
            fputs(REPLACEMENT, f);
        p += n ? n : 1;
    }
}

char *xc__html_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    char *out = malloc(3 * strlen((const char *)p) + 1), *o = out;
    if (!out)
        return NULL;
    while (*p) {
        size_t n = char_len(p);
        memcpy(o, n ? (const char *)p : REPLACEMENT, n ? n : 3);
        o += n ? n : 3;
        p += n ? n : 1;
    }
    *o = '\0';
    return out;
}

static void put_text(FILE *f, const char *s)
{
    xc__html_put_text(f, s);
}

static const char style[] =
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin-bottom:1em}"
    "th,td{border:1px solid #bbb;padding:0.3em 0.6em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "td.text{text-align:left;min-width:12em}"
    ".pass{color:#176917;font-weight:bold}.fail{color:#b00020;font-weight:bold}"
    ".expected{color:#8a5a00;font-weight:bold}"
    "pre{background:#f4f4f4;padding:0.6em;overflow-x:auto}"
    "section{border-top:1px solid #ddd;margin-top:1.5em}"
    "figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:0.5em}"
    ".plot svg{max-width:100%;height:auto}"
    "#plot-status{color:#555}";

static void put_number(FILE *f, double v, int valid)
{
    if (valid && isfinite(v))
        fprintf(f, "%.3g", v);
    else
        fputs("-", f);
}

static void put_cell_number(FILE *f, double v, int valid)
{
    fputs("<td>", f);
    put_number(f, v, valid);
    fputs("</td>", f);
}

static const char *verdict_class(const char *verdict)
{
    return strcmp(verdict, "pass") == 0 ? "pass"
           : strcmp(verdict, "fail") == 0 ? "fail" : "expected";
}

static void put_row(FILE *f, const xc__target_report *t)
{
    const xc__accuracy *a = &t->accuracy;
    const char *verdict = xc__verdict_text(t);
    int have = a->count > 0;
    fputs("<tr><td>", f);
    put_text(f, t->name);
    fprintf(f, "</td><td>%s</td><td class=\"%s\">%s</td><td>%zu%s</td>",
            xc__dtype_name(t->dtype), verdict_class(verdict), verdict, t->cases,
            t->stopped_early ? " (time)" : "");
    put_cell_number(f, a->max_scaled, have);
    put_cell_number(f, a->p50, have);
    put_cell_number(f, a->p90, have);
    put_cell_number(f, a->p99, have);
    put_cell_number(f, a->max_ratio, have);
    if (have)
        fprintf(f, "<td>%zu</td><td>%llu</td>", a->worst_classes,
                (unsigned long long)a->worst_case);
    else
        fputs("<td>-</td><td>-</td>", f);
    put_cell_number(f, t->timing.seconds, 1);
    fputs("<td class=\"text\">", f);
    put_text(f, t->summary);
    fputs("</td></tr>\n", f);
}

static void put_table(FILE *f, const xc__run_report *r)
{
    fputs("<h2>Targets</h2>\n<table id=\"targets\">\n<thead><tr><th>target</th>"
          "<th>dtype</th><th>verdict</th><th>cases</th><th>worst error (u)</th>"
          "<th>p50</th><th>p90</th><th>p99</th><th>error/bound</th>"
          "<th>worst H</th><th>worst case</th><th>time (s)</th>"
          "<th>summary</th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < r->ntargets; i++)
        put_row(f, &r->targets[i]);
    fputs("</tbody>\n</table>\n", f);
}

/* "p99 / max (n)" of one target in one band. */
static void put_band_cell(FILE *f, const xc__target_report *t,
                          const xc__h_band *b)
{
    xc__sample_stats st;
    fputs("<td>", f);
    if (xc__sample_stats_of(t, b, &st) != 0 || st.count == 0) {
        fputs("-</td>", f);
        return;
    }
    put_number(f, st.p99, 1);
    fputs(" / ", f);
    put_number(f, st.max, 1);
    fprintf(f, " (%zu)</td>", st.count);
}

static void put_band_table(FILE *f, const xc__run_report *r)
{
    fputs("<h2>Accuracy by class count H</h2>\n<p>Per band of H: p99 / worst "
          "of the per-case worst scaled error in u (cases).</p>\n"
          "<table id=\"bands\">\n<thead><tr><th>target</th><th>dtype</th>", f);
    for (size_t b = 0; b < XC__NBANDS; b++)
        fprintf(f, "<th>H %s</th>", xc__h_bands[b].name);
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < r->ntargets; i++) {
        fputs("<tr><td>", f);
        put_text(f, r->targets[i].name);
        fprintf(f, "</td><td>%s</td>", xc__dtype_name(r->targets[i].dtype));
        for (size_t b = 0; b < XC__NBANDS; b++)
            put_band_cell(f, &r->targets[i], &xc__h_bands[b]);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void put_finding(FILE *f, const xc__target_report *t)
{
    fputs("<section>\n<h3>", f);
    put_text(f, t->name);
    fprintf(f, ": known finding, %s</h3>\n<p>", t->expected_ok
            ? "failed as expected" : "did not fail as expected");
    put_text(f, t->finding ? t->finding : "(no reason given)");
    fputs("</p>\n<p>Expected to fail:", f);
    for (size_t i = 0; i < t->nexpected; i++) {
        fputs(i ? ", <code>" : " <code>", f);
        put_text(f, t->expected[i]);
        fputs("</code>", f);
    }
    fputs(t->nexpected ? ".</p>\n</section>\n" : " nothing.</p>\n</section>\n", f);
}

static void put_findings(FILE *f, const xc__run_report *r)
{
    int any = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        const xc__target_report *t = &r->targets[i];
        if (!t->finding && t->nexpected == 0)
            continue;
        if (!any)
            fputs("<h2>Known findings</h2>\n", f);
        any = 1;
        put_finding(f, t);
    }
}

static void put_failure(FILE *f, const xc__target_report *t,
                        const xc__failure *fl)
{
    fputs("<section class=\"failure\">\n<h3>", f);
    put_text(f, t->name);
    fputs(": ", f);
    put_text(f, fl->property ? fl->property : "unknown");
    fprintf(f, "</h3>\n<p>Seed 0x%llx, case %llu",
            (unsigned long long)fl->seed, (unsigned long long)fl->case_index);
    if (fl->case_file) {
        fputs(", saved as <code>", f);
        put_text(f, fl->case_file);
        fputs("</code>", f);
    }
    fputs(".</p>\n<pre>", f);
    put_text(f, fl->message);
    fputs("</pre>\n<p>Replay:</p>\n<pre><code>", f);
    put_text(f, fl->replay ? fl->replay : "(no replay command)");
    fputs("</code></pre>\n</section>\n", f);
}

static void put_failures(FILE *f, const xc__run_report *r)
{
    int any = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        for (size_t j = 0; j < r->targets[i].nfailures; j++) {
            if (!any)
                fputs("<h2>Failures</h2>\n", f);
            any = 1;
            put_failure(f, &r->targets[i], &r->targets[i].failures[j]);
        }
    }
    if (!any)
        fputs("<h2>Failures</h2>\n<p>No failures.</p>\n", f);
}

static void put_intro(FILE *f, const xc__run_report *r)
{
    size_t count[3] = { 0, 0, 0 };
    for (size_t i = 0; i < r->ntargets; i++) {
        const char *v = xc__verdict_text(&r->targets[i]);
        count[strcmp(v, "pass") == 0 ? 0 : strcmp(v, "fail") == 0 ? 1 : 2]++;
    }
    fputs("<h1>xentcheck report</h1>\n<p>Tool version ", f);
    put_text(f, r->tool_version ? r->tool_version : "unknown");
    fprintf(f, ", seed 0x%llx, %zu cases requested per target: %zu passed, "
            "%zu failed, %zu failed as expected. Errors are in units of the "
            "dtype's unit roundoff u, scaled per element; the error bound "
            "holds when error/bound &lt;= 1.</p>\n",
            (unsigned long long)r->seed, r->cases_requested, count[0],
            count[1], count[2]);
}

static int put_document(FILE *f, const xc__run_report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width\"/>\n"
          "<title>xentcheck report</title>\n", f);
    fprintf(f, "<style>%s</style>\n</head>\n<body data-plots=\"pending\">\n",
            style);
    put_intro(f, r);
    put_table(f, r);
    put_band_table(f, r);
    xc__html_put_figures(f);
    put_findings(f, r);
    put_failures(f, r);
    xc__html_put_licenses(f);
    int rc = xc__html_put_scripts(f, r);
    fputs("</body>\n</html>\n", f);
    return rc;
}

char *xc__report_html(const xc__run_report *r)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    if (!f)
        return NULL;
    int rc = put_document(f, r);
    if (fclose(f) != 0 || rc != 0) {
        free(doc);
        return NULL;
    }
    return doc;
}
