/* junit.xml: testsuites > one testsuite per target > one testcase per
 * property, with a <failure> for each property that failed.
 *
 * A property can fail more than once; JUnit allows one <failure> per
 * testcase, so its body lists every failure while the message attribute
 * carries the first line of the first. Failures whose property was not in
 * the target's property list (a crash, a refused call) get a testcase of
 * their own, and a failing verdict without any recorded failure gets a
 * "verdict" testcase, so a consumer never shows a failing target as green.
 * A target whose known finding held (it failed exactly the expected
 * properties) reports those testcases as <skipped> with the reason, the
 * failure text kept in <system-out>, so CI shows them without going red.
 * Only the time attributes carry timing; testcases have time="0" because
 * the model times targets, not properties.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* open_memstream, strndup */
#endif
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */

/* Length of the UTF-8 sequence at S if it encodes a character XML 1.0 and
 * HTML both allow, else 0. */
static size_t char_len(const unsigned char *s)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return (s[0] >= 0x20 && s[0] != 0x7f) || s[0] == '\t' ||
               s[0] == '\n' || s[0] == '\r';
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
        (cp >= 0x80 && cp <= 0x9f) || cp == 0xfffe || cp == 0xffff)
        return 0;
    return len;
}

static const char *entity(unsigned char ch, int attr)
{
    switch (ch) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return attr ? "&quot;" : NULL;
    case '\'': return attr ? "&apos;" : NULL;
    case '\r': return "&#13;";
    case '\n': return attr ? "&#10;" : NULL;   /* attribute values would */
    case '\t': return attr ? "&#9;" : NULL;    /* normalise them to spaces */
    default: return NULL;
    }
}

/* S as XML character data (ATTR: inside a double-quoted attribute).
 * Characters XML 1.0 forbids, and invalid UTF-8, become U+FFFD. */
static void put_escaped(FILE *f, const char *s, int attr)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        size_t n = char_len(p);
        const char *ent = entity(*p, attr);
        if (ent)
            fputs(ent, f);
        else if (n)
            fwrite(p, 1, n, f);
        else
            fputs(REPLACEMENT, f);
        p += n ? n : 1;
    }
}

static void put_seconds(FILE *f, double s)
{
    fprintf(f, "%.3f", isfinite(s) && s > 0 ? s : 0.0);
}

static int has_name(const char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static const char *failure_property(const xc__failure *fl)
{
    return fl->property ? fl->property : "unknown";
}

/* The testcases of T: its properties, then failed properties not among
 * them, then "verdict" when nothing else explains a failing verdict.
 * Borrowed pointers; NULL on out of memory. */
static const char **testcase_names(const xc__target_report *t,
                                   size_t *count)
{
    const char **names = malloc((t->nproperties + t->nfailures + 1) * sizeof *names);
    size_t n = 0;
    if (!names)
        return NULL;
    for (size_t i = 0; i < t->nproperties; i++)
        if (t->properties[i] && !has_name(names, n, t->properties[i]))
            names[n++] = t->properties[i];
    for (size_t i = 0; i < t->nfailures; i++) {
        const char *p = failure_property(&t->failures[i]);
        if (!has_name(names, n, p))
            names[n++] = p;
    }
    if (!t->pass && t->nfailures == 0)
        names[n++] = "verdict";
    *count = n;
    return names;
}

static const xc__failure *first_failure(const xc__target_report *t,
                                        const char *name)
{
    for (size_t i = 0; i < t->nfailures; i++)
        if (strcmp(failure_property(&t->failures[i]), name) == 0)
            return &t->failures[i];
    return NULL;
}

static void put_first_line(FILE *f, const char *s)
{
    const char *nl = strchr(s ? s : "", '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s ? s : "");
    char *line = strndup(s ? s : "", n);
    put_escaped(f, line ? line : "", 1);
    free(line);
}

static void put_failure_body(FILE *f, const xc__failure *fl)
{
    put_escaped(f, fl->message, 0);
    fprintf(f, "\nseed: 0x%llx, case %llu\ncase file: ",
            (unsigned long long)fl->seed, (unsigned long long)fl->case_index);
    put_escaped(f, fl->case_file ? fl->case_file : "(not saved)", 0);
    fputs("\nreplay: ", f);
    put_escaped(f, fl->replay ? fl->replay : "(none)", 0);
    fputc('\n', f);
}

static void put_failure(FILE *f, const xc__target_report *t, const char *name)
{
    const xc__failure *first = first_failure(t, name);
    fputs("      <failure message=\"", f);
    put_first_line(f, first ? first->message : "target failed");
    fputs("\" type=\"property\">", f);
    for (size_t i = 0; i < t->nfailures; i++)
        if (strcmp(failure_property(&t->failures[i]), name) == 0)
            put_failure_body(f, &t->failures[i]);
    if (!first)
        fputs("the target failed without a recorded failure\n", f);
    fputs("</failure>\n", f);
}

static int testcase_failed(const xc__target_report *t, const char *name)
{
    return first_failure(t, name) != NULL ||
           (!t->pass && t->nfailures == 0 && strcmp(name, "verdict") == 0);
}

static int testcase_expected(const xc__target_report *t, const char *name)
{
    if (!t->expected_ok || !first_failure(t, name))
        return 0;
    for (size_t i = 0; i < t->nexpected; i++)
        if (t->expected[i] && strcmp(t->expected[i], name) == 0)
            return 1;
    return 0;
}

static void put_expected(FILE *f, const xc__target_report *t, const char *name)
{
    fputs("      <skipped message=\"expected failure (known finding): ", f);
    put_first_line(f, t->finding ? t->finding : "no reason given");
    fputs("\"/>\n      <system-out>", f);
    for (size_t i = 0; i < t->nfailures; i++)
        if (strcmp(failure_property(&t->failures[i]), name) == 0)
            put_failure_body(f, &t->failures[i]);
    fputs("</system-out>\n", f);
}

static void put_testcase(FILE *f, const xc__target_report *t, const char *name)
{
    fputs("    <testcase name=\"", f);
    put_escaped(f, name, 1);
    fputs("\" classname=\"", f);
    put_escaped(f, t->name, 1);
    if (!testcase_failed(t, name)) {
        fputs("\" time=\"0\"/>\n", f);
        return;
    }
    fputs("\" time=\"0\">\n", f);
    if (testcase_expected(t, name))
        put_expected(f, t, name);
    else
        put_failure(f, t, name);
    fputs("    </testcase>\n", f);
}

/* Failed testcases, and (SKIPPED) those that failed as expected. */
static size_t count_failed(const xc__target_report *t, const char **names,
                           size_t n, size_t *skipped)
{
    size_t failed = 0;
    *skipped = 0;
    for (size_t i = 0; i < n; i++) {
        int expected = testcase_expected(t, names[i]);
        *skipped += expected;
        failed += testcase_failed(t, names[i]) && !expected;
    }
    return failed;
}

static int put_suite(FILE *f, const xc__target_report *t, size_t *tests,
                     size_t *failures)
{
    size_t n = 0;
    const char **names = testcase_names(t, &n);
    if (!names)
        return -1;
    size_t skipped = 0;
    size_t failed = count_failed(t, names, n, &skipped);
    fputs("  <testsuite name=\"", f);
    put_escaped(f, t->name, 1);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
            "time=\"", n, failed, skipped);
    put_seconds(f, t->timing.seconds);
    fputs("\">\n", f);
    for (size_t i = 0; i < n; i++)
        put_testcase(f, t, names[i]);
    fputs("  </testsuite>\n", f);
    *tests += n;
    *failures += failed;
    free(names);
    return 0;
}

/* The suites are rendered first because <testsuites> carries their totals. */
static char *render_suites(const xc__run_report *r, size_t *tests,
                           size_t *failures)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < r->ntargets && rc == 0; i++)
        rc = put_suite(f, &r->targets[i], tests, failures);
    if (fclose(f) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

char *xc__report_junit(const xc__run_report *r)
{
    size_t tests = 0, failures = 0, len = 0;
    char *suites = render_suites(r, &tests, &failures);
    char *doc = NULL;
    FILE *f = suites ? open_memstream(&doc, &len) : NULL;
    if (!f) {
        free(suites);
        return NULL;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites name=\"xentcheck\" tests=\"%zu\" failures=\"%zu\" "
            "errors=\"0\" time=\"", tests, failures);
    put_seconds(f, r->timing.seconds);
    fprintf(f, "\">\n%s</testsuites>\n", suites);
    free(suites);
    if (fclose(f) != 0) {
        free(doc);
        return NULL;
    }
    return doc;
}
