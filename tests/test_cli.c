/* The xentcheck binary, run as users run it: exit status, messages, list,
 * run, replay, reports. The binary's path comes from XC_TEST_CLI. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef XC_TEST_CLI
#define XC_TEST_CLI "./xentcheck"
#endif

extern char **environ;

#define MAX_ARGS 32
#define OUT_MAX (1 << 20)

typedef struct cli_result {
    int status;    /* exit status, or 128 + signal */
    char *out;     /* stdout, NUL-terminated */
    char *err;     /* stderr */
} cli_result;

static char *read_all(int fd)
{
    char *buf = calloc(1, OUT_MAX + 1);
    size_t n = 0;
    ssize_t got;
    ck_assert_ptr_nonnull(buf);
    lseek(fd, 0, SEEK_SET);
    while (n < OUT_MAX && (got = read(fd, buf + n, OUT_MAX - n)) > 0)
        n += (size_t)got;
    return buf;
}

static int temp_fd(void)
{
    char path[] = "/tmp/xc_cli_out_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

/* Run the binary with ARGS (NULL-terminated, without argv[0]). */
static cli_result run_cli(const char *const *args)
{
    char *argv[MAX_ARGS + 2] = { XC_TEST_CLI };
    size_t n = 0;
    while (args[n]) {
        ck_assert(n < MAX_ARGS);
        argv[n + 1] = (char *)args[n];
        n++;
    }
    int out = temp_fd(), err = temp_fd();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    posix_spawn_file_actions_adddup2(&fa, err, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, XC_TEST_CLI, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_msg(rc == 0, "cannot run %s: %s", XC_TEST_CLI, strerror(rc));
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    cli_result r = { WIFEXITED(status) ? WEXITSTATUS(status)
                                       : 128 + WTERMSIG(status),
                     read_all(out), read_all(err) };
    close(out);
    close(err);
    return r;
}

static void result_free(cli_result *r)
{
    free(r->out);
    free(r->err);
}

/* Exit status STATUS; on 2, one clear line on stderr. */
static void expect(const char *const *args, int status, const char *in_out,
                   const char *in_err)
{
    cli_result r = run_cli(args);
    ck_assert_msg(r.status == status, "%s %s: status %d, want %d\nstdout:\n%s\n"
                  "stderr:\n%s", args[0] ? args[0] : "", args[0] && args[1] ? args[1] : "",
                  r.status, status, r.out, r.err);
    if (status == 2)
        ck_assert_msg(strncmp(r.err, "xentcheck: ", 11) == 0 ||
                      strncmp(r.err, "usage:", 6) == 0,
                      "stderr lacks the prefix: %s", r.err);
    if (in_out)
        ck_assert_msg(strstr(r.out, in_out), "stdout lacks \"%s\":\n%s", in_out, r.out);
    if (in_err)
        ck_assert_msg(strstr(r.err, in_err), "stderr lacks \"%s\":\n%s", in_err, r.err);
    result_free(&r);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(version)
{
    expect(ARGS("--version"), 0, "plugin ABI 1", NULL);
    expect(ARGS("-V"), 0, "xentcheck ", NULL);
}
END_TEST

START_TEST(help)
{
    expect(ARGS("--help"), 0, "usage: xentcheck", NULL);
    expect(ARGS("run", "--help"), 0, "--tol-factor", NULL);
    expect(ARGS("list", "-h"), 0, "--mutants", NULL);
    expect(ARGS("replay", "--help"), 0, "FILE...", NULL);
    expect(ARGS("help", "run"), 0, "--max-classes", NULL);
    expect(ARGS("help", "nope"), 2, NULL, "unknown command");
}
END_TEST

START_TEST(bad_usage)
{
    expect((const char *const[]){ NULL }, 2, NULL, "usage:");
    expect(ARGS("frobnicate"), 2, NULL, "unknown command 'frobnicate'");
    expect(ARGS("--frobnicate"), 2, NULL, "unknown option");
    expect(ARGS("run", "--frobnicate"), 2, NULL, "'--frobnicate' is not known");
    expect(ARGS("run", "-Z"), 2, NULL, "'-Z' is not known");
    expect(ARGS("run", "--seed"), 2, NULL, "'--seed' needs a value");
    expect(ARGS("list", "extra"), 2, NULL, "unexpected argument");
    expect(ARGS("run", "extra"), 2, NULL, "unexpected argument");
}
END_TEST

START_TEST(bad_numbers)
{
    expect(ARGS("run", "--cases", "abc"), 2, NULL, "--cases");
    expect(ARGS("run", "--cases", "0"), 2, NULL, "--cases");
    expect(ARGS("run", "--cases", "-5"), 2, NULL, "--cases");
    expect(ARGS("run", "--cases", "12x"), 2, NULL, "--cases");
    expect(ARGS("run", "--cases", " 12"), 2, NULL, "--cases");
    expect(ARGS("run", "--seed", "0x"), 2, NULL, "--seed");
    expect(ARGS("run", "--seed", "0x1ffffffffffffffff"), 2, NULL, "--seed");
    expect(ARGS("run", "--seed", "18446744073709551616"), 2, NULL, "--seed");
    expect(ARGS("run", "--time", "nan"), 2, NULL, "--time");
    expect(ARGS("run", "--time", "0"), 2, NULL, "--time");
    expect(ARGS("run", "--time", "1e999"), 2, NULL, "--time");
    expect(ARGS("run", "--timeout", "-1"), 2, NULL, "--timeout");
    expect(ARGS("run", "--tol-factor", "inf"), 2, NULL, "--tol-factor");
    expect(ARGS("run", "--max-classes", "1.5"), 2, NULL, "--max-classes");
    expect(ARGS("run", "--format", "xml"), 2, NULL, "--format");
    expect(ARGS("run", "--format", "json,"), 2, NULL, "--format");
    expect(ARGS("run", "--report", ""), 2, NULL, "--report");
    expect(ARGS("run", "--jobs", "0"), 2, NULL, "--jobs");
    expect(ARGS("run", "--jobs", "100000"), 2, NULL, "--jobs");
    expect(ARGS("run", "--shard", "0/2"), 2, NULL, "--shard");
    expect(ARGS("run", "--shard", "3/2"), 2, NULL, "--shard");
    expect(ARGS("run", "--shard", "1/0"), 2, NULL, "--shard");
    expect(ARGS("run", "--shard", "2"), 2, NULL, "--shard");
    expect(ARGS("run", "--shard", "/2"), 2, NULL, "--shard");
    expect(ARGS("run", "--shard", "1/2/3"), 2, NULL, "--shard");
}
END_TEST

START_TEST(unknown_target_and_plugin)
{
    expect(ARGS("run", "--target", "no.such.target"), 2, NULL,
           "unknown target 'no.such.target'");
    expect(ARGS("run", "--plugin", "/nonexistent/plugin.so"), 2, NULL,
           "/nonexistent/plugin.so");
    expect(ARGS("list", "--plugin", "/nonexistent/plugin.so"), 2, NULL,
           "/nonexistent/plugin.so");
    expect(ARGS("replay", "--plugin", "/nonexistent/plugin.so", "x.case"), 2,
           NULL, "/nonexistent/plugin.so");
#ifdef XC_TEST_PLUGIN_DIR
    expect(ARGS("list", "--plugin", XC_TEST_PLUGIN_DIR "/bad_abi.so"), 2, NULL,
           "bad_abi.so");
#endif
}
END_TEST

START_TEST(list_builtins)
{
    expect(ARGS("list"), 0, "xc.f64.shifted", NULL);
    expect(ARGS("list", "--mutants"), 0, "xc.f32.shifted", NULL);
    cli_result r = run_cli(ARGS("list"));
    ck_assert_ptr_null(strstr(r.out, "mutant "));
    result_free(&r);
}
END_TEST

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/xc_cli_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static char *path_in(const char *dir, const char *name)
{
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
    return p;
}

static char *write_temp(const char *dir, const char *name, const char *text)
{
    char *path = path_in(dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void remove_tree(const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    waitpid(pid, NULL, 0);
}

#define CASE_F64 "xentcheck-case 1\n%sdtype f64\nbatch 1\nclasses 3\n" \
                 "labels 2\nlogits\n0x1p+0 -0.5 0.25\nend\n"

START_TEST(replay_errors)
{
    char *dir = temp_dir(), text[256];
    expect(ARGS("replay"), 2, NULL, "no case file");
    expect(ARGS("replay", "/nonexistent/case.case"), 2, NULL,
           "/nonexistent/case.case");
    /* Not a case file: replayed as a fuzzer artifact (bytes decoded into a
     * case for the default target, which holds on it). */
    char *junk = write_temp(dir, "crash-1234", "\x01\x02garbage\n");
    expect(ARGS("replay", junk), 0, "NOT REPRODUCED", NULL);
    /* The fuzzer's class limit decodes artifacts as the fuzzer did: the H
     * byte 0x20 is H = 33 by default, H = 1 under a limit of 16, where
     * mutant.crash_h1 crashes. */
    char *wide = write_temp(dir, "crash-h", "\x08\x20\x40\x40"); /* no NUL: fputs */
    expect(ARGS("replay", "--mutants", "--target", "mutant.crash_h1", wide), 0,
           "NOT REPRODUCED", NULL);
    setenv("XENTCHECK_FUZZ_MAX_H", "16", 1);
    expect(ARGS("replay", "--mutants", "--target", "mutant.crash_h1", wide), 1,
           "REPRODUCED", NULL);
    setenv("XENTCHECK_FUZZ_MAX_H", "0", 1);
    expect(ARGS("replay", junk), 2, NULL, "XENTCHECK_FUZZ_MAX_H='0'");
    unsetenv("XENTCHECK_FUZZ_MAX_H");
    free(wide);
    snprintf(text, sizeof text, CASE_F64, "");
    char *anon = write_temp(dir, "anon.case", text);
    expect(ARGS("replay", anon), 2, NULL, "no target");
    snprintf(text, sizeof text, CASE_F64, "target no.such.target\n");
    char *unknown = write_temp(dir, "unknown.case", text);
    expect(ARGS("replay", unknown), 2, NULL, "unknown target 'no.such.target'");
    char *broken = write_temp(dir, "broken.case", "xentcheck-case 1\nbatch 0\n");
    expect(ARGS("replay", broken), 2, NULL, "line 2:");
    free(junk);
    free(anon);
    free(unknown);
    free(broken);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* A small, benign case: a correct target holds every property on it. */
START_TEST(replay_passing_case)
{
    char *dir = temp_dir(), text[256];
    snprintf(text, sizeof text, CASE_F64, "target xc.f64.shifted\n"
             "property reference_grad\n");
    char *file = write_temp(dir, "ok.case", text);
    expect(ARGS("replay", file), 0, "NOT REPRODUCED", NULL);
    expect(ARGS("replay", "--quiet", "--target", "xc.f64.shifted", file), 0,
           "NOT REPRODUCED", NULL);
    free(file);
    remove_tree(dir);
    free(dir);
}
END_TEST

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s missing", path);
    char *buf = calloc(1, OUT_MAX + 1);
    size_t n = fread(buf, 1, OUT_MAX, f);
    buf[n] = '\0';
    fclose(f);
    cJSON *root = cJSON_Parse(buf);
    ck_assert_msg(root != NULL, "%s does not parse", path);
    free(buf);
    return root;
}

/* report.json without its timing section, printed compactly. */
static char *stable_json(const char *dir)
{
    char *path = path_in(dir, "report.json");
    cJSON *root = load_json(path);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "timing");
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    free(path);
    return s;
}

START_TEST(run_builtin_passes_and_reports)
{
    char *dir = temp_dir();
    expect(ARGS("run", "--target", "xc.f64.shifted", "--cases", "30",
                "--report", dir, "--quiet"), 0, "PASS xc.f64.shifted", NULL);
    static const char *const files[] = { "report.json", "junit.xml",
                                         "summary.md", "index.html" };
    for (size_t i = 0; i < 4; i++) {
        char *p = path_in(dir, files[i]);
        ck_assert_msg(access(p, R_OK) == 0, "%s missing", p);
        free(p);
    }
    char *json = stable_json(dir);
    ck_assert_ptr_nonnull(strstr(json, "\"verdict\":\"pass\""));
    cJSON_free(json);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(run_all_builtins_default)
{
    char *dir = temp_dir();
    cli_result r = run_cli(ARGS("run", "--cases", "20", "--report", dir,
                                "--format", "json"));
    ck_assert_msg(r.status == 0, "status %d\n%s\n%s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "PASS xc.f64.shifted"));
    ck_assert_ptr_nonnull(strstr(r.out, "PASS xc.f32.shifted"));
    ck_assert_ptr_nonnull(strstr(r.out, "PASS xc.f32.logsoftmax"));
    char *html = path_in(dir, "index.html");
    ck_assert_int_ne(access(html, F_OK), 0);   /* only the json asked for */
    free(html);
    result_free(&r);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(same_seed_same_report)
{
    char *a = temp_dir(), *b = temp_dir();
    /* A generous time budget: the case count, not the clock, ends both runs. */
    expect(ARGS("run", "--target", "xc.f32.shifted", "--cases", "25", "--seed",
                "0x2a", "--time", "100", "--report", a, "--quiet"), 0, NULL, NULL);
    expect(ARGS("run", "--target", "xc.f32.shifted", "--cases", "25", "--seed",
                "42", "--time", "100", "--report", b, "--quiet"), 0, NULL, NULL);
    char *x = stable_json(a), *y = stable_json(b);
    ck_assert_ptr_null(strstr(x, "\"stopped_early\":true"));
    ck_assert_str_eq(x, y);
    cJSON_free(x);
    cJSON_free(y);
    remove_tree(a);
    remove_tree(b);
    free(a);
    free(b);
}
END_TEST

#ifdef XC_TEST_BREAKER_DIR
/* The replay line of a failure, run as printed, reproduces it. */
/* The failure of PROPERTY (or the first one when NULL) in the report. */
static cJSON *find_failure(cJSON *root, const char *property)
{
    cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "targets"), 0);
    cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(t, "failures")) {
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(f, "property"));
        if (!property || (p && strcmp(p, property) == 0))
            return f;
    }
    return NULL;
}

static void replay_reproduces(const char *dir, const char *property)
{
    char *path = path_in(dir, "report.json");
    cJSON *root = load_json(path);
    cJSON *f = find_failure(root, property);
    ck_assert_msg(f != NULL, "no failure of %s in the report", property);
    const char *line = cJSON_GetStringValue(cJSON_GetObjectItem(f, "replay"));
    ck_assert_ptr_nonnull(line);
    ck_assert(strncmp(line, "xentcheck replay ", 17) == 0);
    char *copy = strdup(line + 17), *save = NULL;
    const char *args[MAX_ARGS + 1] = { "replay" };
    size_t n = 1;
    for (char *w = strtok_r(copy, " ", &save); w && n < MAX_ARGS;
         w = strtok_r(NULL, " ", &save))
        args[n++] = w;
    args[n] = NULL;
    expect(args, 1, "REPRODUCED", NULL);
    free(copy);
    cJSON_Delete(root);
    free(path);
}

/* Every property's breaker (tests/breakers/) makes `run --plugin` exit 1,
 * and the replay line printed for that property reproduces it. */
static const char *const breakers[] = {
    "reference_grad", "reference_loss", "fd_consistency", "shift_invariance",
    "row_sum", "bounds", "finite", "permutation", "batch_consistency",
    "determinism", "inputs_unchanged", "no_read_before_write",
    "padding_untouched", "guard_untouched", "nonfinite_isolation",
    "masked_rows", "return_code", "no_crash", "no_hang"};

START_TEST(breaker_fails_and_replays)
{
    char *dir = temp_dir();
    char plugin[1024];
    snprintf(plugin, sizeof plugin, "%s/%s.so", XC_TEST_BREAKER_DIR, breakers[_i]);
    expect(ARGS("run", "--plugin", plugin, "--cases", "200", "--report", dir,
                "--quiet"), 1, "FAIL ", NULL);
    replay_reproduces(dir, breakers[_i]);
    remove_tree(dir);
    free(dir);
}
END_TEST
#endif

/* ---- --shard, --jobs, --no-shrink ---- */

/* Remove what names the report's own directory (case files, replay lines)
 * from every failure of ROOT, keeping only the case file's base name. */
static void strip_paths(cJSON *root)
{
    cJSON *t, *f;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(root, "targets"))
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(t, "failures")) {
            const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(f, "case_file"));
            const char *base = path && strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
            cJSON_AddStringToObject(f, "case_base", base ? base : "");
            cJSON_DeleteItemFromObjectCaseSensitive(f, "case_file");
            cJSON_DeleteItemFromObjectCaseSensitive(f, "replay");
        }
}

/* stable_json() of DIR without the paths that name DIR. */
static char *portable_json(const char *dir)
{
    char *path = path_in(dir, "report.json");
    cJSON *root = load_json(path);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "timing");
    strip_paths(root);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    free(path);
    return s;
}

#ifdef XC_TEST_BREAKER_DIR
/* A target that fails (so failures are merged too) and one that passes,
 * unshrunk so that every run saves the very case it met. */
#define SHARD_RUN(plugin, dir, ...)                                              \
    run_cli(ARGS("run", "--plugin", plugin, "--target", "breaker.row_sum",         \
                 "--target", "xc.f32.shifted", "--cases", "36", "--time", "100",   \
                 "--no-shrink", "--report", dir, "--quiet", __VA_ARGS__))

static void breaker_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s.so", XC_TEST_BREAKER_DIR, name);
}

START_TEST(shards_merge_to_the_single_run)
{
    char plugin[1024];
    breaker_path(plugin, sizeof plugin, "row_sum");
    char *one = temp_dir(), *merged = temp_dir(), *shard[3];
    cli_result r = SHARD_RUN(plugin, one, "--seed", "7");
    ck_assert_msg(r.status == 1, "single run: status %d\n%s", r.status, r.err);
    result_free(&r);
    const char *which[] = { "1/3", "2/3", "3/3" };
    char *reports[3];
    for (int i = 0; i < 3; i++) {
        shard[i] = temp_dir();
        r = SHARD_RUN(plugin, shard[i], "--seed", "7", "--shard", which[i]);
        ck_assert_msg(r.status <= 1, "shard %s: status %d\n%s", which[i], r.status, r.err);
        result_free(&r);
        reports[i] = path_in(shard[i], "report.json");
    }
    expect(ARGS("report", "merge", reports[0], reports[1], reports[2], "-o", merged),
           0, NULL, NULL);
    char *a = portable_json(one), *b = portable_json(merged);
    ck_assert_ptr_nonnull(strstr(a, "\"verdict\":\"fail\""));
    ck_assert_str_eq(a, b);
    cJSON_free(a);
    cJSON_free(b);
    for (int i = 0; i < 3; i++) {
        free(reports[i]);
        remove_tree(shard[i]);
        free(shard[i]);
    }
    remove_tree(one);
    remove_tree(merged);
    free(one);
    free(merged);
}
END_TEST

START_TEST(jobs_give_the_single_run)
{
    char plugin[1024];
    breaker_path(plugin, sizeof plugin, "row_sum");
    char *one = temp_dir(), *three = temp_dir();
    cli_result r = SHARD_RUN(plugin, one, "--seed", "9");
    ck_assert_int_eq(r.status, 1);
    result_free(&r);
    r = SHARD_RUN(plugin, three, "--seed", "9", "--jobs", "3");
    ck_assert_msg(r.status == 1, "--jobs 3: status %d\n%s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "FAIL breaker.row_sum"));
    ck_assert_ptr_nonnull(strstr(r.out, "PASS xc.f32.shifted"));
    result_free(&r);
    char *a = portable_json(one), *b = portable_json(three);
    ck_assert_str_eq(a, b);
    cJSON_free(a);
    cJSON_free(b);
    /* Not quiet: the failure and its replay line still reach stderr. */
    remove_tree(three);
    r = run_cli(ARGS("run", "--plugin", plugin, "--cases", "20", "--jobs", "2",
                     "--report", three));
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "FAIL breaker.row_sum: property row_sum"));
    ck_assert_ptr_nonnull(strstr(r.err, "replay: xentcheck replay"));
    result_free(&r);
    remove_tree(one);
    remove_tree(three);
    free(one);
    free(three);
}
END_TEST

/* Shrinking is on by default and --no-shrink turns it off. */
START_TEST(no_shrink_keeps_the_case_found)
{
    char plugin[1024];
    breaker_path(plugin, sizeof plugin, "row_sum");
    char *dir = temp_dir();
    for (int shrink = 0; shrink < 2; shrink++) {
        cli_result r = run_cli(shrink ? ARGS("run", "--plugin", plugin, "--cases", "20",
                                             "--report", dir, "--quiet")
                                      : ARGS("run", "--plugin", plugin, "--cases", "20",
                                             "--report", dir, "--quiet", "--no-shrink"));
        ck_assert_int_eq(r.status, 1);
        result_free(&r);
        char *json = stable_json(dir);
        ck_assert_msg((strstr(json, "shrunk from") != NULL) == shrink,
                      "shrink %d: %s", shrink, json);
        cJSON_free(json);
        remove_tree(dir);
    }
    free(dir);
}
END_TEST
#endif

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, version);
    tcase_add_test(usage, help);
    tcase_add_test(usage, bad_usage);
    tcase_add_test(usage, bad_numbers);
    tcase_add_test(usage, unknown_target_and_plugin);
    tcase_add_test(usage, list_builtins);
    tcase_add_test(usage, replay_errors);
    suite_add_tcase(s, usage);
    /* These need the check loop: bounded runs of a few seconds each. */
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 120);
    tcase_add_test(runs, replay_passing_case);
    tcase_add_test(runs, run_builtin_passes_and_reports);
    tcase_add_test(runs, run_all_builtins_default);
    tcase_add_test(runs, same_seed_same_report);
#ifdef XC_TEST_BREAKER_DIR
    tcase_add_test(runs, shards_merge_to_the_single_run);
    tcase_add_test(runs, jobs_give_the_single_run);
    tcase_add_test(runs, no_shrink_keeps_the_case_found);
    tcase_add_loop_test(runs, breaker_fails_and_replays, 0,
                        (int)(sizeof breakers / sizeof *breakers));
#endif
    suite_add_tcase(s, runs);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
