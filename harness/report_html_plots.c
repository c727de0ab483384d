/* The plots of index.html, drawn in the browser by Observable Plot (on d3)
 * as SVG: the libraries are embedded in the binary at build time
 * (report_plotlib.h) and written into the page as base64 data: URIs, so the
 * page needs no network and stays well-formed XML whatever bytes the
 * libraries hold. The samples travel as JSON in a
 * <script type="application/json"> block; a short script turns them into
 * three plot specifications. No chart drawing happens here.
 *
 * The script marks the outcome on <body data-plots="ok|empty|error"> so a
 * test in a headless browser can tell that the plots were drawn.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#endif
#include "report_html.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "report_plotlib.h"
#include "report_stats.h"

static const char figures[] =
    "<h2>Plots</h2>\n"
    "<p id=\"plot-status\">The plots need JavaScript; the tables above hold "
    "the same statistics.</p>\n"
    "<figure><figcaption>Distribution of the worst scaled gradient error of "
    "each case (u, log axis), per target</figcaption>"
    "<div id=\"plot-hist\" class=\"plot\"></div></figure>\n"
    "<figure><figcaption>Worst scaled error against the class count H "
    "(log-log)</figcaption><div id=\"plot-h\" class=\"plot\"></div></figure>\n"
    "<figure><figcaption>Worst scaled error against the logit range "
    "max |z - M| of the case (log-log)</figcaption>"
    "<div id=\"plot-logit\" class=\"plot\"></div></figure>\n"
    "<p>On the log axes, errors below 0.001 u (exact results included) are "
    "drawn at the floor of the axis: half the smallest error, at least "
    "0.001 u. Hover a point for its case.</p>\n";

void xc__html_put_figures(FILE *f)
{
    fputs(figures, f);
}

/* Reads the data block and hands Observable Plot one specification per
 * plot. Kept free of "]]>" (CDATA) and of "</" (HTML script end). */
static const char page_script[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var body = document.body, status = document.getElementById('plot-status');\n"
    "  function smallest(data) {\n"
    "    var m = Infinity;\n"
    "    data.targets.forEach(function (t) {\n"
    "      t.samples.worst_scaled.forEach(function (e) { if (e > 0) m = Math.min(m, e); });\n"
    "    });\n"
    "    return isFinite(m) ? Math.max(m / 2, 1e-3) : 1e-3;\n"
    "  }\n"
    "  function rows(data, floor) {\n"
    "    var out = [];\n"
    "    data.targets.forEach(function (t) {\n"
    "      var s = t.samples;\n"
    "      s.worst_scaled.forEach(function (e, i) {\n"
    "        if (e === null) return;\n"
    "        out.push({target: t.name, H: s.classes[i], N: s.batch[i], c: s.case_index[i],\n"
    "                  range: s.logit_range[i], err: Math.max(e, floor), ratio: s.worst_ratio[i]});\n"
    "      });\n"
    "    });\n"
    "    return out;\n"
    "  }\n"
    "  function edges(lo, hi) {\n"
    "    var out = [], a = Math.floor(4 * Math.log10(lo)), b = Math.ceil(4 * Math.log10(hi));\n"
    "    for (var k = a; k <= Math.max(b, a + 1); k++) out.push(Math.pow(10, k / 4));\n"
    "    return out;\n"
    "  }\n"
    "  function ranged(r) {\n"
    "    var pos = r.filter(function (d) { return d.range > 0; });\n"
    "    var lo = pos.reduce(function (m, d) { return Math.min(m, d.range); }, 2) / 2;\n"
    "    return r.filter(function (d) { return d.range !== null; }).map(function (d) {\n"
    "      return Object.assign({}, d, {range: Math.max(d.range, lo)});\n"
    "    });\n"
    "  }\n"
    "  function tip(d) {\n"
    "    return d.target + '\\ncase ' + d.c + ': H=' + d.H + ' N=' + d.N +\n"
    "      '\\nerror ' + d.err.toPrecision(3) + ' u, ' + d.ratio.toPrecision(3) + ' of bound';\n"
    "  }\n"
    "  function put(id, node) { document.getElementById(id).appendChild(node); }\n"
    "  function draw(data) {\n"
    "    var floor = smallest(data), r = rows(data, floor);\n"
    "    var names = data.targets.map(function (t) { return t.name; });\n"
    "    if (r.length === 0) return 'empty';\n"
    "    var hi = r.reduce(function (m, d) { return Math.max(m, d.err); }, floor);\n"
    "    var color = {domain: names, legend: true};\n"
    "    put('plot-hist', Plot.plot({\n"
    "      width: 960, height: 60 + 80 * names.length, marginLeft: 50, marginRight: 180,\n"
    "      x: {type: 'log', label: 'worst scaled error of a case (u)', tickFormat: '~g'},\n"
    "      y: {label: 'cases', grid: true}, fy: {label: null, domain: names},\n"
    "      color: {domain: names},\n"
    "      marks: [Plot.rectY(r, Plot.binX({y: 'count'},\n"
    "                {x: 'err', fy: 'target', fill: 'target', thresholds: edges(floor, hi)})),\n"
    "              Plot.ruleY([0]), Plot.frame({stroke: '#ccc'})]}));\n"
    "    put('plot-h', Plot.plot({\n"
    "      width: 960, height: 440, grid: true, color: color,\n"
    "      x: {type: 'log', label: 'classes H'},\n"
    "      y: {type: 'log', label: 'worst scaled error (u)', tickFormat: '~g'},\n"
    "      marks: [Plot.dot(r, {x: 'H', y: 'err', stroke: 'target', r: 2.5, title: tip})]}));\n"
    "    put('plot-logit', Plot.plot({\n"
    "      width: 960, height: 440, grid: true, color: color,\n"
    "      x: {type: 'log', label: 'logit range max |z - M|', tickFormat: '~g'},\n"
    "      y: {type: 'log', label: 'worst scaled error (u)', tickFormat: '~g'},\n"
    "      marks: [Plot.dot(ranged(r), {x: 'range', y: 'err', stroke: 'target', r: 2.5, title: tip})]}));\n"
    "    status.textContent = r.length + ' cases of ' + names.length + ' targets.';\n"
    "    return 'ok';\n"
    "  }\n"
    "  try {\n"
    "    if (typeof Plot === 'undefined')\n"
    "      throw new Error('this xentcheck was built without its charting library (XC_HTML_PLOTS=OFF)');\n"
    "    var data = JSON.parse(document.getElementById('xc-data').textContent);\n"
    "    var outcome = draw(data);\n"
    "    if (outcome === 'empty') status.textContent = 'No accuracy samples: nothing to plot.';\n"
    "    body.setAttribute('data-plots', outcome);\n"
    "  } catch (e) {\n"
    "    body.setAttribute('data-plots', 'error');\n"
    "    status.textContent = 'The plots could not be drawn: ' + e.message;\n"
    "    console.error(e);\n"
    "  }\n"
    "})();\n";

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_base64(FILE *f, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        fputc(b64[v >> 18 & 63], f);
        fputc(b64[v >> 12 & 63], f);
        fputc(i + 1 < n ? b64[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? b64[v & 63] : '=', f);
    }
}

static void add_raw_float(cJSON *arr, float v)
{
    char buf[32];
    if (!isfinite(v)) {
        cJSON_AddItemToArray(arr, cJSON_CreateNull());
        return;
    }
    xc__format_float(buf, sizeof buf, v);
    cJSON_AddItemToArray(arr, cJSON_CreateRaw(buf));
}

enum { COL_CASE, COL_CLASSES, COL_BATCH, COL_RANGE, COL_MAX, COL_SCALED,
       COL_RATIO, NCOLS };
static const char *const col_names[NCOLS] = {
    "case_index", "classes", "batch", "logit_range", "logit_max",
    "worst_scaled", "worst_ratio",
};

static void add_sample(cJSON **cols, const xc__sample *s)
{
    cJSON_AddItemToArray(cols[COL_CASE], cJSON_CreateNumber((double)s->case_index));
    cJSON_AddItemToArray(cols[COL_CLASSES], cJSON_CreateNumber(s->classes));
    cJSON_AddItemToArray(cols[COL_BATCH], cJSON_CreateNumber(s->batch));
    add_raw_float(cols[COL_RANGE], s->logit_range);
    add_raw_float(cols[COL_MAX], s->logit_max);
    add_raw_float(cols[COL_SCALED], s->worst_scaled);
    add_raw_float(cols[COL_RATIO], s->worst_ratio);
}

/* The samples column by column: a third of the size of one object each. */
static cJSON *samples_columns(const xc__target_report *t)
{
    cJSON *o = cJSON_CreateObject(), *cols[NCOLS];
    for (size_t c = 0; c < NCOLS; c++)
        cols[c] = cJSON_AddArrayToObject(o, col_names[c]);
    for (size_t i = 0; i < t->nsamples; i++)
        add_sample(cols, &t->samples[i]);
    return o;
}

static void add_clean_string(cJSON *o, const char *key, const char *s)
{
    char *clean = xc__html_clean(s);
    cJSON_AddStringToObject(o, key, clean ? clean : "");
    free(clean);
}

static cJSON *plot_data(const xc__run_report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *targets = cJSON_AddArrayToObject(root, "targets");
    for (size_t i = 0; i < r->ntargets; i++) {
        const xc__target_report *t = &r->targets[i];
        cJSON *o = cJSON_CreateObject();
        add_clean_string(o, "name", t->name);
        cJSON_AddStringToObject(o, "dtype", xc__dtype_name(t->dtype));
        cJSON_AddStringToObject(o, "verdict", xc__verdict_text(t));
        cJSON_AddItemToObject(o, "samples", samples_columns(t));
        cJSON_AddItemToArray(targets, o);
    }
    return root;
}

/* JSON inside <script>: '<', '>' and '&' (only ever inside strings) as
 * \u escapes, so neither the HTML nor the XML parser sees markup. */
static void put_json_escaped(FILE *f, const char *json)
{
    for (const char *p = json; *p; p++) {
        if (*p == '<' || *p == '>' || *p == '&')
            fprintf(f, "\\u%04x", (unsigned)*p);
        else
            fputc(*p, f);
    }
}

static int put_data(FILE *f, const xc__run_report *r)
{
    cJSON *root = plot_data(r);
    char *json = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json)
        return -1;
    fputs("<script type=\"application/json\" id=\"xc-data\">", f);
    put_json_escaped(f, json);
    fputs("</script>\n", f);
    cJSON_free(json);
    return 0;
}

int xc__html_put_scripts(FILE *f, const xc__run_report *r)
{
    if (put_data(f, r) != 0)
        return -1;
    for (size_t i = 0; i < xc__plotlib_nfiles; i++) {
        const xc__plotlib_file *lib = &xc__plotlib_files[i];
        fprintf(f, "<script data-library=\"%s %s\" "
                "src=\"data:text/javascript;base64,", lib->name, lib->version);
        put_base64(f, lib->js, lib->js_len);
        fputs("\"></script>\n", f);
    }
    fprintf(f, "<script>//<![CDATA[\n%s//]]></script>\n", page_script);
    return 0;
}

void xc__html_put_licenses(FILE *f)
{
    if (xc__plotlib_nfiles == 0)
        return;
    fputs("<details id=\"licenses\"><summary>Embedded software and its "
          "licence</summary>\n", f);
    for (size_t i = 0; i < xc__plotlib_nfiles; i++) {
        const xc__plotlib_file *lib = &xc__plotlib_files[i];
        char *text = malloc(lib->license_len + 1);
        fprintf(f, "<p>%s %s</p>\n<pre>", lib->name, lib->version);
        if (text) {
            memcpy(text, lib->license, lib->license_len);
            text[lib->license_len] = '\0';
            xc__html_put_text(f, text);
        }
        fputs("</pre>\n", f);
        free(text);
    }
    fputs("</details>\n", f);
}
