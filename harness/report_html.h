/* What the two halves of index.html share: report_html.c writes the
 * document (tables, findings, failures), report_html_plots.c the plots
 * (data block, embedded libraries, the script that draws them).
 */
#ifndef XC_HARNESS_REPORT_HTML_H
#define XC_HARNESS_REPORT_HTML_H

#include <stdio.h>

#include "report.h"

/* S as HTML/XML text: markup characters escaped, characters neither
 * allows (controls, noncharacters, invalid UTF-8) replaced by U+FFFD. */
void xc__html_put_text(FILE *f, const char *s);

/* A malloc'd copy of S with those characters replaced (no escaping);
 * NULL out of memory. */
char *xc__html_clean(const char *s);

/* The plots section: a figure with an empty container per plot. */
void xc__html_put_figures(FILE *f);

/* The end of the page: the data as JSON, the libraries and the script
 * that draws the plots into the containers. -1 out of memory. */
int xc__html_put_scripts(FILE *f, const xc__run_report *r);

/* The licence notices of the embedded libraries (a <details> block). */
void xc__html_put_licenses(FILE *f);

#endif
