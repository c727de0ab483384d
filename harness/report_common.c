/* What every report writer shares: freeing the model, parsing the format
 * list, atomic file writes and writing all formats into a directory.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* fsync, strdup */
#endif
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void free_failure(xc__failure *f)
{
    free(f->property);
    free(f->message);
    free(f->case_file);
    free(f->replay);
}

void xc__target_report_free(xc__target_report *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nfailures; i++)
        free_failure(&t->failures[i]);
    for (size_t i = 0; i < t->nproperties; i++)
        free(t->properties[i]);
    for (size_t i = 0; i < t->nexpected; i++)
        free(t->expected[i]);
    free(t->expected);
    free(t->finding);
    free(t->samples);
    free(t->failures);
    free(t->properties);
    free(t->name);
    free(t->summary);
    free(t->origin);
    memset(t, 0, sizeof *t);
}

/* Frees what R owns, not R itself (a run report usually lives on the
 * stack of its caller); R is left empty and may be freed again. */
void xc__run_report_free(xc__run_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ntargets; i++)
        xc__target_report_free(&r->targets[i]);
    free(r->targets);
    free(r->tool_version);
    memset(r, 0, sizeof *r);
}

static const struct {
    const char *name;
    int bit;
} format_names[] = {
    { "json", XC__FMT_JSON },
    { "junit", XC__FMT_JUNIT },
    { "md", XC__FMT_MD },
    { "markdown", XC__FMT_MD },
    { "html", XC__FMT_HTML },
    { "all", XC__FMT_JSON | XC__FMT_JUNIT | XC__FMT_MD | XC__FMT_HTML },
};

static int format_bit(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strlen(format_names[i].name) == n &&
            memcmp(format_names[i].name, s, n) == 0)
            return format_names[i].bit;
    return -1;
}

/* Strict: no empty items, no blanks, every name known. */
int xc__report_formats_parse(const char *list)
{
    int bits = 0;
    if (!list || !*list)
        return -1;
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int bit = format_bit(p, n);
        if (bit < 0)
            return -1;
        bits |= bit;
        if (!comma)
            return bits;
        p = comma + 1;
    }
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Data reaches the disk (fsync) before the rename publishes it, so a crash
 * leaves either the old file or the new one, never a torn one. */
static int write_temp(const char *tmp, const char *data, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, data, len) == 0 && fsync(fd) == 0 ? 0 : -1;
    int saved = errno;
    if (close(fd) != 0 && rc == 0)
        return -1;
    errno = saved;
    return rc;
}

int xc__write_file_atomic(const char *path, const char *data, size_t len,
                          char *err, size_t errlen)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) {
        set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int rc = -1;
    if (write_temp(tmp, data, len) != 0)
        set_err(err, errlen, "%s: %s", tmp, strerror(errno));
    else if (rename(tmp, path) != 0)
        set_err(err, errlen, "%s: %s", path, strerror(errno));
    else
        rc = 0;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int make_dir(const char *path)
{
    struct stat st;
    if (mkdir(path, 0755) == 0)
        return 0;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (errno == EEXIST)
        errno = ENOTDIR;
    return -1;
}

/* mkdir -p: every prefix ending before a '/' and then the whole path. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char *path = *dir ? strdup(dir) : NULL;
    int rc = 0;
    if (!*dir) {
        set_err(err, errlen, "empty report directory name");
        return -1;
    }
    if (!path) {
        set_err(err, errlen, "%s: out of memory", dir);
        return -1;
    }
    for (char *p = path + 1; rc == 0 && *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        rc = make_dir(path);
        *p = '/';
    }
    if (rc == 0)
        rc = make_dir(path);
    if (rc != 0)
        set_err(err, errlen, "%s: cannot create directory: %s", path,
                strerror(errno));
    free(path);
    return rc;
}

static const struct {
    int bit;
    const char *file;
    char *(*render)(const xc__run_report *r);
} writers[] = {
    { XC__FMT_JSON, "report.json", xc__report_json },
    { XC__FMT_JUNIT, "junit.xml", xc__report_junit },
    { XC__FMT_MD, "summary.md", xc__report_markdown },
    { XC__FMT_HTML, "index.html", xc__report_html },
};

static int write_one(const xc__run_report *r, const char *dir, size_t w,
                     char *err, size_t errlen)
{
    size_t n = strlen(dir) + strlen(writers[w].file) + 2;
    char *path = malloc(n);
    char *doc = writers[w].render(r);
    int rc = -1;
    if (!path || !doc) {
        set_err(err, errlen, "%s: out of memory rendering %s", dir,
                writers[w].file);
    } else {
        snprintf(path, n, "%s/%s", dir, writers[w].file);
        rc = xc__write_file_atomic(path, doc, strlen(doc), err, errlen);
    }
    free(doc);
    free(path);
    return rc;
}

int xc__report_write_all(const xc__run_report *r, const char *dir, int formats,
                         char *err, size_t errlen)
{
    if (make_dirs(dir, err, errlen) != 0)
        return -1;
    for (size_t w = 0; w < sizeof writers / sizeof writers[0]; w++)
        if ((formats & writers[w].bit) && write_one(r, dir, w, err, errlen) != 0)
            return -1;
    return 0;
}
