/* Registry of targets: the built-in table, the mutants when asked for, and
 * plugins loaded with dlopen. A plugin is registered all or nothing: one bad
 * descriptor rejects the whole shared object, so a half-registered library
 * never produces a verdict. */
#include "registry.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 100
/* More targets than this means the plugin returned a garbage count; reading
 * that many descriptors would walk off its table. */
#define PLUGIN_MAX_TARGETS 65536u

typedef struct plugin {
    void *handle;
    char *path;  /* owned; the origin of its entries */
} plugin;

struct xc__registry {
    xc__entry **entries;  /* individually allocated: pointers stay valid */
    size_t count, cap;
    plugin *plugins;
    size_t nplugins, plugins_cap;
};

static void set_err(char *err, size_t len, const char *fmt, ...)
{
    if (err == NULL || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c != NULL)
        memcpy(c, s, n);
    return c;
}

static int add_entry(xc__registry *reg, const xc_target *t, const char *origin,
                     int is_mutant)
{
    if (grow((void **)&reg->entries, &reg->cap, reg->count + 1,
             sizeof *reg->entries) != 0)
        return -1;
    xc__entry *e = malloc(sizeof *e);
    if (e == NULL)
        return -1;
    e->target = t;
    e->origin = origin;
    e->is_mutant = is_mutant;
    e->finding = NULL;
    reg->entries[reg->count++] = e;
    return 0;
}

static int add_table(xc__registry *reg, const xc_target *table, size_t n,
                     const char *origin, int is_mutant)
{
    for (size_t i = 0; i < n; i++)
        if (add_entry(reg, &table[i], origin, is_mutant) != 0)
            return -1;
    return 0;
}

/* Attach the known findings to the library targets they name. */
static void attach_findings(xc__registry *reg)
{
    size_t n = 0;
    const xc__finding *f = xc__library_findings(&n);
    for (size_t i = 0; f != NULL && i < n; i++)
        for (size_t j = 0; j < reg->count; j++)
            if (strcmp(reg->entries[j]->origin, "library") == 0 &&
                strcmp(reg->entries[j]->target->name, f[i].target) == 0)
                reg->entries[j]->finding = &f[i];
}

xc__registry *xc__registry_new(int with_mutants)
{
    xc__registry *reg = calloc(1, sizeof *reg);
    if (reg == NULL)
        return NULL;
    size_t n = 0;
    const xc_target *table = xc__builtin_targets(&n);
    int rc = add_table(reg, table, table ? n : 0, "builtin", 0);
    if (rc == 0) {
        n = 0;
        table = xc__library_targets(&n);
        rc = add_table(reg, table, table ? n : 0, "library", 0);
        attach_findings(reg);
    }
    if (rc == 0 && with_mutants) {
        n = 0;
        table = xc__mutant_targets(&n);
        rc = add_table(reg, table, table ? n : 0, "mutant", 1);
    }
    if (rc != 0) {
        xc__registry_free(reg);
        return NULL;
    }
    return reg;
}

void xc__registry_free(xc__registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->count; i++)
        free(reg->entries[i]);
    free(reg->entries);
    for (size_t i = 0; i < reg->nplugins; i++) {
        dlclose(reg->plugins[i].handle);
        free(reg->plugins[i].path);
    }
    free(reg->plugins);
    free(reg);
}

size_t xc__registry_count(const xc__registry *reg)
{
    return reg ? reg->count : 0;
}

const xc__entry *xc__registry_at(const xc__registry *reg, size_t i)
{
    return reg && i < reg->count ? reg->entries[i] : NULL;
}

const xc__entry *xc__registry_find(const xc__registry *reg, const char *name)
{
    if (reg == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < reg->count; i++) {
        const char *n = reg->entries[i]->target->name;
        if (n != NULL && strcmp(n, name) == 0)
            return reg->entries[i];
    }
    return NULL;
}

/* ---- validation ---- */

/* ASCII ranges, not isalnum(): names must not depend on the locale. */
static int name_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int validate_name(const char *name, char *err, size_t len)
{
    if (name == NULL) {
        set_err(err, len, "name is NULL");
        return -1;
    }
    size_t n = 0;
    for (; name[n] != '\0' && n <= NAME_MAX_LEN; n++) {
        if (!name_char_ok(name[n])) {
            set_err(err, len, "malformed name \"%.*s\": character 0x%02x '%c' "
                    "is not one of [A-Za-z0-9_.-]", NAME_MAX_LEN, name,
                    (unsigned char)name[n], name[n] >= ' ' ? name[n] : '?');
            return -1;
        }
    }
    if (n == 0)
        set_err(err, len, "malformed name: empty");
    else if (n > NAME_MAX_LEN)
        set_err(err, len, "malformed name \"%.40s...\": longer than %d "
                "characters", name, NAME_MAX_LEN);
    return n == 0 || n > NAME_MAX_LEN ? -1 : 0;
}

static int validate_caps(uint32_t caps, char *err, size_t len)
{
    const char *why = NULL;
    if (caps & ~(uint32_t)XC_CAPS_ALL_V1) {
        set_err(err, len, "unknown caps bits 0x%x (ABI v%u defines 0x%x)",
                (unsigned)(caps & ~(uint32_t)XC_CAPS_ALL_V1), XC_ABI_VERSION,
                (unsigned)XC_CAPS_ALL_V1);
        return -1;
    }
    if (!(caps & (XC_CAP_INDEX_LABELS | XC_CAP_PROB_LABELS)))
        why = "caps declare no label kind (XC_CAP_INDEX_LABELS or "
              "XC_CAP_PROB_LABELS)";
    else if ((caps & XC_CAP_IGNORE_INDEX) && !(caps & XC_CAP_INDEX_LABELS))
        why = "XC_CAP_IGNORE_INDEX requires XC_CAP_INDEX_LABELS";
    else if ((caps & XC_CAP_UNNORMALIZED) && !(caps & XC_CAP_PROB_LABELS))
        why = "XC_CAP_UNNORMALIZED requires XC_CAP_PROB_LABELS";
    if (why != NULL)
        set_err(err, len, "%s", why);
    return why ? -1 : 0;
}

static int validate_callbacks(const xc_target *t, char *err, size_t len)
{
    const char *why = NULL;
    if (t->grad == NULL)
        why = "missing grad: the grad callback is NULL";
    else if ((t->caps & XC_CAP_LOSS) && t->loss == NULL)
        why = "caps declare XC_CAP_LOSS but the loss callback is NULL";
    else if (!(t->caps & XC_CAP_LOSS) && t->loss != NULL)
        why = "a loss callback is given but caps lack XC_CAP_LOSS";
    if (why != NULL)
        set_err(err, len, "%s", why);
    return why ? -1 : 0;
}

int xc__target_validate(const xc_target *t, char *err, size_t errlen)
{
    if (t == NULL) {
        set_err(err, errlen, "target descriptor is NULL");
        return -1;
    }
    /* Checked first: with another ABI the other fields may mean something
     * else, so nothing more is read. */
    if (t->abi_version != XC_ABI_VERSION) {
        set_err(err, errlen, "abi_version %u, expected %u",
                (unsigned)t->abi_version, XC_ABI_VERSION);
        return -1;
    }
    if (validate_name(t->name, err, errlen) != 0)
        return -1;
    if (t->summary == NULL) {
        set_err(err, errlen, "summary is NULL");
        return -1;
    }
    if (t->dtype != XC_F32 && t->dtype != XC_F64) {
        set_err(err, errlen, "unknown dtype %d (XC_F32 = 1, XC_F64 = 2)",
                (int)t->dtype);
        return -1;
    }
    if (validate_caps(t->caps, err, errlen) != 0)
        return -1;
    return validate_callbacks(t, err, errlen);
}

/* ---- plugins ---- */

/* dlopen() searches the library path for a name without '/'; a user who
 * types --plugin libfoo.so means the file in the current directory. */
static void *open_plugin(const char *path, char *err, size_t len)
{
    char *local = NULL;
    if (strchr(path, '/') == NULL) {
        local = malloc(strlen(path) + 3);
        if (local == NULL) {
            set_err(err, len, "plugin %s: out of memory", path);
            return NULL;
        }
        memcpy(local, "./", 2);
        memcpy(local + 2, path, strlen(path) + 1);
    }
    dlerror();
    void *h = dlopen(local ? local : path, RTLD_NOW | RTLD_LOCAL);
    free(local);
    if (h == NULL) {
        const char *why = dlerror();
        set_err(err, len, "plugin %s: cannot load as a shared object: %s",
                path, why ? why : "unknown dlopen error");
    }
    return h;
}

typedef const xc_target *(*table_fn)(size_t *count);

static const xc_target *plugin_table(void *h, const char *path, size_t *count,
                                     char *err, size_t len)
{
    dlerror();
    void *sym = dlsym(h, XC_PLUGIN_SYMBOL);
    if (sym == NULL) {
        set_err(err, len, "plugin %s: missing symbol %s (not a xentcheck "
                "plugin?)", path, XC_PLUGIN_SYMBOL);
        return NULL;
    }
    table_fn fn;
    /* POSIX guarantees a data pointer from dlsym converts to a function
     * pointer; memcpy says so without an ISO C cast warning. */
    memcpy(&fn, &sym, sizeof fn);
    *count = 0;
    const xc_target *table = fn(count);
    if (table == NULL || *count == 0) {
        set_err(err, len, "plugin %s: %s() returned an empty table (%s, "
                "count %zu)", path, XC_PLUGIN_SYMBOL,
                table ? "non-NULL" : "NULL", *count);
        return NULL;
    }
    if (*count > PLUGIN_MAX_TARGETS) {
        set_err(err, len, "plugin %s: %s() returned an implausible count %zu",
                path, XC_PLUGIN_SYMBOL, *count);
        return NULL;
    }
    return table;
}

static const char *shown_name(const xc_target *t)
{
    return t->name != NULL ? t->name : "(null)";
}

static int check_duplicate(const xc__registry *reg, const xc_target *table,
                           size_t i, const char *path, char *err, size_t len)
{
    const char *name = table[i].name;
    for (size_t j = 0; j < i; j++) {
        if (strcmp(table[j].name, name) == 0) {
            set_err(err, len, "plugin %s: target #%zu \"%s\": duplicate name "
                    "(also target #%zu of the same plugin)", path, i, name, j);
            return -1;
        }
    }
    const xc__entry *e = xc__registry_find(reg, name);
    if (e != NULL) {
        set_err(err, len, "plugin %s: target #%zu \"%s\": duplicate name "
                "(already registered from %s)", path, i, name, e->origin);
        return -1;
    }
    return 0;
}

static int check_table(const xc__registry *reg, const char *path,
                       const xc_target *table, size_t n, char *err, size_t len)
{
    char why[256];
    for (size_t i = 0; i < n; i++) {
        if (xc__target_validate(&table[i], why, sizeof why) != 0) {
            set_err(err, len, "plugin %s: target #%zu \"%.*s\": %s", path, i,
                    NAME_MAX_LEN, table[i].abi_version == XC_ABI_VERSION
                    ? shown_name(&table[i]) : "?", why);
            return -1;
        }
        if (check_duplicate(reg, table, i, path, err, len) != 0)
            return -1;
    }
    return 0;
}

static int add_plugin(xc__registry *reg, void *h, const char *path,
                      const xc_target *table, size_t n)
{
    size_t before = reg->count;
    char *owned = copy_string(path);
    if (owned == NULL ||
        grow((void **)&reg->plugins, &reg->plugins_cap, reg->nplugins + 1,
             sizeof *reg->plugins) != 0 ||
        add_table(reg, table, n, owned, 0) != 0) {
        while (reg->count > before)
            free(reg->entries[--reg->count]);
        free(owned);
        return -1;
    }
    reg->plugins[reg->nplugins].handle = h;
    reg->plugins[reg->nplugins].path = owned;
    reg->nplugins++;
    return 0;
}

int xc__registry_load_plugin(xc__registry *reg, const char *path, char *err,
                             size_t errlen)
{
    if (reg == NULL || path == NULL || path[0] == '\0') {
        set_err(err, errlen, "plugin path is empty");
        return -1;
    }
    void *h = open_plugin(path, err, errlen);
    if (h == NULL)
        return -1;
    size_t n = 0;
    const xc_target *table = plugin_table(h, path, &n, err, errlen);
    if (table == NULL || check_table(reg, path, table, n, err, errlen) != 0)
        goto fail;
    if (add_plugin(reg, h, path, table, n) != 0) {
        set_err(err, errlen, "plugin %s: out of memory", path);
        goto fail;
    }
    return 0;
fail:
    dlclose(h);
    return -1;
}

/* ---- caps ---- */

static void append(char *buf, size_t len, size_t *used, const char *s)
{
    int n = snprintf(buf + *used, len - *used, "%s%s", *used ? "," : "", s);
    if (n > 0)
        *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

void xc__caps_format(uint32_t caps, char *buf, size_t len)
{
    static const char *const names[] = {
        "index", "prob", "batch", "mean", "loss", "unnorm", "weights", "ignore",
    };
    if (buf == NULL || len == 0)
        return;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & (1u << i))
            append(buf, len, &used, names[i]);
    uint32_t unknown = caps & ~(uint32_t)XC_CAPS_ALL_V1;
    if (unknown) {
        char hex[24];
        snprintf(hex, sizeof hex, "0x%x", (unsigned)unknown);
        append(buf, len, &used, hex);
    }
    if (used == 0)
        snprintf(buf, len, "none");
}
