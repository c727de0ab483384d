/* `xentcheck run --jobs N`: the cases of one run split over N worker
 * processes (shards j of N), each writing its report.json into a private
 * temporary directory; the parent merges them (xc__report_merge), which
 * gives the report a single process would have written. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* mkdtemp */
#endif
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_read.h"

/* A worker's exit status when it could not check or write its report. */
#define JOB_HARNESS_ERROR 3

/* DIR/J or DIR/J/FILE; -1 when it does not fit (DIR is short: see
 * xc__cli_run_jobs, so it always does). */
static int job_path(char *buf, size_t len, const char *dir, size_t j,
                    const char *file)
{
    int n = snprintf(buf, len, "%s/%zu%s%s", dir, j, file ? "/" : "", file ? file : "");
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* In the child: check shard J and write DIR/J/report.json; never returns. */
static void run_job(const char *dir, size_t j, xc__cli_shard_fn fn, void *ctx)
{
    char sub[4096], err[512];
    xc__run_report rr = { 0 };
    int rc = fn(ctx, j, &rr);
    if (rc == 0 && job_path(sub, sizeof sub, dir, j, NULL) != 0)
        rc = -1;
    if (rc == 0 && xc__report_write_all(&rr, sub, XC__FMT_JSON, err, sizeof err) != 0) {
        fprintf(stderr, "xentcheck: job %zu: cannot write its report: %s\n", j, err);
        rc = -1;
    }
    xc__run_report_free(&rr);
    fflush(NULL);
    _exit(rc == 0 ? 0 : JOB_HARNESS_ERROR);
}

/* Wait for every started worker; -1 unless all exited 0. */
static int wait_jobs(const pid_t *pids, size_t n, char *err, size_t errlen)
{
    int rc = 0;
    for (size_t j = 0; j < n; j++) {
        int status;
        while (waitpid(pids[j], &status, 0) < 0 && errno == EINTR)
            ;
        if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            snprintf(err, errlen, "job %zu of %zu %s %d", j + 1, n,
                     WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            rc = -1;
        }
    }
    return rc;
}

static size_t start_jobs(const char *dir, size_t jobs, xc__cli_shard_fn fn,
                         void *ctx, pid_t *pids, char *err, size_t errlen)
{
    fflush(NULL);   /* nothing buffered is written twice */
    for (size_t j = 0; j < jobs; j++) {
        pids[j] = fork();
        if (pids[j] == 0)
            run_job(dir, j, fn, ctx);
        if (pids[j] < 0) {
            snprintf(err, errlen, "cannot start job %zu: %s", j + 1, strerror(errno));
            return j;
        }
    }
    return jobs;
}

static int merge_jobs(const char *dir, size_t jobs, xc__run_report *merged,
                      char *err, size_t errlen)
{
    xc__run_report *parts = calloc(jobs, sizeof *parts);
    int rc = parts ? 0 : -1;
    if (!parts)
        snprintf(err, errlen, "out of memory");
    for (size_t j = 0; rc == 0 && j < jobs; j++) {
        char path[4096];
        rc = job_path(path, sizeof path, dir, j, "report.json");
        if (rc == 0)
            rc = xc__report_read_file(path, &parts[j], err, errlen);
    }
    if (rc == 0)
        rc = xc__report_merge(parts, jobs, merged, err, errlen);
    for (size_t j = 0; parts && j < jobs; j++)
        xc__run_report_free(&parts[j]);
    free(parts);
    return rc;
}

static void remove_jobs(const char *dir, size_t jobs)
{
    for (size_t j = 0; j < jobs; j++) {
        char path[4096];
        if (job_path(path, sizeof path, dir, j, "report.json") == 0)
            unlink(path);
        if (job_path(path, sizeof path, dir, j, NULL) == 0)
            rmdir(path);
    }
    rmdir(dir);
}

int xc__cli_run_jobs(size_t jobs, xc__cli_shard_fn fn, void *ctx,
                     xc__run_report *merged, char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    char dir[2048];
    if (!tmp || !*tmp || strlen(tmp) > 1024)
        tmp = "/tmp";
    snprintf(dir, sizeof dir, "%s/xentcheck-jobs-XXXXXX", tmp);
    memset(merged, 0, sizeof *merged);
    pid_t *pids = calloc(jobs, sizeof *pids);
    if (!pids || !mkdtemp(dir)) {
        snprintf(err, errlen, "cannot create a directory for the jobs' reports: %s",
                 pids ? strerror(errno) : "out of memory");
        free(pids);
        return -1;
    }
    size_t started = start_jobs(dir, jobs, fn, ctx, pids, err, errlen);
    char werr[256] = "";
    int rc = wait_jobs(pids, started, werr, sizeof werr);
    if (started == jobs && rc != 0)
        snprintf(err, errlen, "%s", werr);
    if (started == jobs && rc == 0)
        rc = merge_jobs(dir, jobs, merged, err, errlen);
    remove_jobs(dir, jobs);
    free(pids);
    return started == jobs ? rc : -1;
}
