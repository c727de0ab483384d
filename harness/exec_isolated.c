/* The isolated executor: the target runs in a forked worker process.
 *
 * Arena. Before forking, the parent maps one MAP_SHARED anonymous arena:
 *
 *   [control][handshake][guard][grad][guard][logits][guard][labels][guard]
 *   [probs][guard][weights][guard]
 *
 * Each region is a whole number of pages; each buffer is right-aligned in
 * its region, so its last byte is the last byte before a PROT_NONE guard
 * page. The worker maps the control page and the input regions PROT_READ,
 * so a write to an input faults, and so does a read or write past the end
 * of any buffer. Page protection is the whole mechanism for inputs: the
 * parent does not compare them after the call (a target would have to
 * mprotect them back on purpose to get around it). Before gradient row 0
 * the worker keeps a poison zone of at least XC__EXEC_ZONE_MIN bytes (the
 * rest of its page) writable and the rest of the grad region PROT_NONE;
 * the parent checks the zone and the row padding after each call.
 *
 * Calls. The parent writes a request into the control page and publishes
 * it by a sequence number in the handshake page, the one page both sides
 * write; the worker answers with a fixed-size reply in the handshake page
 * and publishes it by a sequence number of its own. A side that waits
 * first watches the other's number (spinning, below), then sleeps on a
 * SOCK_SEQPACKET socket pair; the publishing side rings it (one byte, with
 * MSG_NOSIGNAL: a dead worker gives EPIPE, never a SIGPIPE that would kill
 * the harness) when the waiter has said it sleeps. The two say it in
 * Dekker's order, each with sequentially consistent atomics: the waiter
 * stores its flag and then reads the number, the publisher stores the
 * number and then reads the flag, so at least one of them sees the
 * other's store, and no wake-up is lost. A fault handler in the worker, on
 * its own signal stack, publishes the fault address as the reply, rings
 * and _exits; the parent maps the address back to a buffer. The parent
 * also watches the worker's process (pidfd) and its end of the socket, so
 * a worker that dies without a word is seen. Per call there is no fork
 * and no mmap: one round trip, plus an mprotect in the worker when the
 * poison zone moves. The worker is restarted lazily after it dies, and
 * when a case needs a larger arena (regions grow geometrically).
 *
 * Waiting. A blocking wait costs a sleep and a cross-CPU wake-up, about
 * 20 us a round trip on the 2-CPU VM this was measured on, more than a
 * whole call on a small case, and a message through the socket costs its
 * send and receive, 2.6 us a pair there. So while the machine has a CPU to
 * spare (machine_has_room(), spin_begin()), each side first watches the
 * other's sequence number for up to SPIN_NS, reading memory and no system
 * call: a call whose answer comes meanwhile crosses no socket at all. The
 * messages are the same either way: spinning only changes how long a side
 * sleeps, never what it reads.
 *
 * The worker is forked without exec so that the target's function pointers
 * stay valid; this assumes the harness is single-threaded when it forks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* REG_ERR, pidfd, prctl and CPU_COUNT */
#endif
#include "exec_common.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

enum { R_GRAD, R_LOGITS, R_LABELS, R_PROBS, R_WEIGHTS, R_COUNT };
static const char *const region_names[R_COUNT] = {"grad", "logits", "labels",
                                                  "probs", "weights"};

enum { CALL_GRAD = 1, CALL_LOSS = 2 };
enum { REPLY_DONE = 1, REPLY_FAULT, REPLY_READY, REPLY_SETUP_FAILED };

/* Pages of each region in a new arena; grown on demand. */
#define INITIAL_REGION_PAGES 4
#define ALT_STACK_BYTES (64u * 1024u)

/* How long a side polls before it blocks. In a `xentcheck run` (H up to
 * 4096) 85% of the replies and 76% of the next requests came within 50 us
 * (76% and 64% within 20 us), measured by an earlier version of this file;
 * a spin that runs out costs at most this much over blocking at once. */
#define SPIN_NS 50000
/* After spins that ran out, the next 1, 2, 4 .. SPIN_BACKOFF_MAX waits
 * block at once: when the other side's work outlasts the budget (large
 * cases), spinning costs one budget in SPIN_BACKOFF_MAX waits at most. */
#define SPIN_BACKOFF_MAX 8u
/* How often a side looks at the machine's load, and how many looks in a
 * row must find it busy to stop spinning (a kernel thread that runs for a
 * moment is no competitor; --jobs 2 is seen at every look). */
#define LOAD_PROBE_NS 10000000
#define BUSY_PROBES_OFF 2

/* One side's spinning state (each process keeps its own). */
typedef struct spinner {
    int cpus;           /* CPUs this process may run on; 0: not yet known */
    int ok;             /* as of the last look at the load */
    int busy_probes;    /* looks in a row that found no room */
    int64_t next_probe; /* when to look again (now_ns()) */
    unsigned skip, backoff;
} spinner;

typedef struct arena {
    unsigned char *base;
    size_t page, total;
    size_t off[R_COUNT], cap[R_COUNT]; /* region offset and bytes */
} arena;

/* Lives in the control page; pointers are into the arena, which has the
 * same address in the worker. */
typedef struct request {
    int kind;
    xc_problem problem;
    void *grad;
    unsigned char *zone; /* grad region below it is PROT_NONE in the worker;
                            NULL: leave the protection as it is */
} request;

typedef struct reply {
    int kind;
    int rc;      /* target's return value; errno for REPLY_SETUP_FAILED */
    double loss;
    int signo;
    int access;  /* 1 write, 0 read, -1 unknown */
    uintptr_t addr;
} reply;

/* The handshake page, after the control page: the only page both sides
 * write. The counters sit on cache lines of their own. */
typedef struct handshake {
    _Alignas(64) _Atomic uint64_t req_seq; /* requests published (parent) */
    _Atomic int worker_asleep;             /* worker: blocked on the socket */
    _Alignas(64) _Atomic uint64_t rep_seq; /* requests answered (worker) */
    _Atomic int parent_asleep;             /* parent: blocked on the socket */
    reply rep;                             /* the answer to request rep_seq */
} handshake;
_Static_assert(sizeof(handshake) <= 4096, "the handshake fits the smallest page");
/* Shared between processes and used in the fault handler: lock-free only. */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2 &&
               ATOMIC_INT_LOCK_FREE == 2, "the handshake's atomics are lock-free");

typedef struct iso {
    xc__exec head;
    arena a;
    pid_t pid; /* 0: no worker */
    int sock;  /* parent end of the socket pair */
    int pidfd; /* readable once the worker exits; -1 when unsupported */
    int lost;  /* the last worker died: the next start is a restart */
    spinner spin; /* the parent's (the worker has its own) */
    unsigned char *buf[R_COUNT]; /* this call's buffers (right-aligned) */
    size_t bytes[R_COUNT];
    unsigned char *zone;
    uint64_t posted; /* sequence number of the call in flight, kept here:
                        the handshake page is writable by the target */
} iso;

/* ---- arena ---------------------------------------------------------- */

static size_t round_up(size_t n, size_t page)
{
    return (n + page - 1) / page * page;
}

static void arena_layout(arena *a, const size_t cap[R_COUNT])
{
    size_t at = 3 * a->page; /* control, handshake, guard before grad */
    for (int i = 0; i < R_COUNT; i++) {
        a->cap[i] = cap[i];
        a->off[i] = at;
        at += cap[i] + a->page; /* region, guard after it */
    }
    a->total = at;
}

static int arena_map(arena *a, const size_t cap[R_COUNT])
{
    arena_layout(a, cap);
    void *p = mmap(NULL, a->total, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        a->base = NULL;
        return -1;
    }
    a->base = p;
    /* Guards are PROT_NONE for the parent too: the worker inherits them. */
    if (mprotect(a->base + 2 * a->page, a->page, PROT_NONE) != 0)
        return -1;
    for (int i = 0; i < R_COUNT; i++)
        if (mprotect(a->base + a->off[i] + a->cap[i], a->page, PROT_NONE))
            return -1;
    return 0;
}

static handshake *handshake_of(const arena *a)
{
    return (handshake *)(void *)(a->base + a->page);
}

static void arena_unmap(arena *a)
{
    if (a->base)
        munmap(a->base, a->total);
    a->base = NULL;
}

static void case_bytes(const xc__case *c, xc_dtype t, size_t bytes[R_COUNT])
{
    bytes[R_GRAD] = xc__exec_extent(c) * xc__dtype_size(t);
    bytes[R_LOGITS] = xc__exec_logits_bytes(c, t);
    bytes[R_LABELS] = xc__exec_labels_bytes(c);
    bytes[R_PROBS] = xc__exec_probs_bytes(c, t);
    bytes[R_WEIGHTS] = xc__exec_weights_bytes(c, t);
}

/* Region sizes for BYTES, growing CAP geometrically; 1 when any grew. */
static int grown_caps(const arena *a, const size_t bytes[R_COUNT],
                      size_t cap[R_COUNT])
{
    int grew = 0;
    for (int i = 0; i < R_COUNT; i++) {
        size_t need = bytes[i] + (i == R_GRAD ? XC__EXEC_ZONE_MIN : 0);
        need = round_up(need ? need : 1, a->page);
        cap[i] = a->cap[i];
        if (need > cap[i]) {
            cap[i] = need > 2 * cap[i] ? need : 2 * cap[i];
            grew = 1;
        }
    }
    return grew;
}

/* ---- spinning ------------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cpus_available(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    return CPU_COUNT(&set);
}

/* Whether at most one task more than CPUS is running or waiting to run:
 * the fourth field of /proc/loadavg, "running/total", machine-wide. The
 * one more: on the idle 2-CPU VM this was measured on, the count shows a
 * runnable task besides the reader most of the time (15 of 20 looks 50 ms
 * apart read 2, with nothing else running). The parent and its worker,
 * both awake, then read 3 there; two --jobs processes and their workers,
 * or any busy program beside them, read more. */
static int machine_has_room(int cpus)
{
    char buf[128];
    long running = 0;
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return sscanf(buf, "%*s %*s %*s %ld", &running) == 1 && running <= cpus + 1;
}

/* Whether this wait may spin: never with one CPU (the other side could
 * not run meanwhile), otherwise while the machine has room (above), and
 * not during the backoff after spins that ran out. */
static int spin_begin(spinner *s)
{
    int64_t now = now_ns();
    if (s->cpus == 0)
        s->cpus = cpus_available();
    if (s->cpus >= 2 && now >= s->next_probe) {
        s->busy_probes = machine_has_room(s->cpus) ? 0 : s->busy_probes + 1;
        s->ok = s->busy_probes < BUSY_PROBES_OFF;
        s->next_probe = now + LOAD_PROBE_NS;
    }
    if (!s->ok)
        return 0;
    if (s->skip) {
        s->skip--;
        return 0;
    }
    return 1;
}

static void spin_end(spinner *s, int caught)
{
    if (caught) {
        s->backoff = 0;
        return;
    }
    s->backoff = s->backoff ? 2 * s->backoff : 1;
    if (s->backoff > SPIN_BACKOFF_MAX)
        s->backoff = SPIN_BACKOFF_MAX;
    s->skip = s->backoff;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Watch *SEQ, without a system call, until it equals WANT, for up to
 * SPIN_NS (and not past DEADLINE_NS) when S lets this wait spin: 1 when
 * it did, 0 when the caller is to sleep. */
static int spin_until(spinner *s, _Atomic uint64_t *seq, uint64_t want,
                      int64_t deadline_ns)
{
    if (!spin_begin(s))
        return 0;
    int64_t end = now_ns() + SPIN_NS;
    if (end > deadline_ns)
        end = deadline_ns;
    int ready = 0;
    for (unsigned i = 1; !ready; i++) {
        ready = atomic_load(seq) == want;
        cpu_relax();
        if (!ready && i % 64 == 0 && now_ns() >= end)
            break;
    }
    spin_end(s, ready);
    return ready;
}

/* Before sleeping: say so in *ASLEEP, then look at *SEQ once more (the
 * waiter's half of the handshake's Dekker order). 1 when it equals WANT
 * meanwhile: then the caller does not sleep, and the flag is down again.
 * Equality, not order: each side expects exactly the next number (a
 * target scribbling on the page can delay a call, never complete one). */
static int ready_before_sleep(_Atomic int *asleep, _Atomic uint64_t *seq,
                              uint64_t want)
{
    atomic_store(asleep, 1);
    if (atomic_load(seq) != want)
        return 0;
    atomic_store(asleep, 0);
    return 1;
}

/* The publisher's half: store the number, then whether the other side
 * said it sleeps (it is then to be rung). */
static int publish(_Atomic uint64_t *seq, uint64_t value, _Atomic int *other_asleep)
{
    atomic_store(seq, value);
    return atomic_load(other_asleep);
}

/* Without blocking: a full socket means bells the other side has yet to
 * read, one of which will wake it. */
static int ring(int sock)
{
    char bell = 1;
    if (send(sock, &bell, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
        return 0;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}

/* ---- worker --------------------------------------------------------- */

static int fault_fd = -1;             /* set in the worker only */
static handshake *fault_handshake;    /* likewise */

static int fault_access(const void *uctx)
{
#if defined(__x86_64__) && defined(REG_ERR)
    /* Bit 1 of the page-fault error code: the access was a write. */
    const ucontext_t *uc = uctx;
    return (uc->uc_mcontext.gregs[REG_ERR] & 2) ? 1 : 0;
#else
    (void)uctx;
    return -1;
#endif
}

/* Async-signal-safe: report the fault address and leave. */
static void on_fault(int sig, siginfo_t *si, void *uctx)
{
    reply r;
    memset(&r, 0, sizeof r);
    r.kind = REPLY_FAULT;
    r.signo = sig;
    r.addr = (uintptr_t)si->si_addr;
    r.access = fault_access(uctx);
    /* the answer to the request in flight; lock-free atomics, memcpy and
     * write() are async-signal-safe */
    memcpy(&fault_handshake->rep, &r, sizeof r);
    atomic_store(&fault_handshake->rep_seq, atomic_load(&fault_handshake->req_seq));
    char bell = 1;
    ssize_t n = write(fault_fd, &bell, 1);
    (void)n;
    _exit(128 + sig);
}

/* Handlers inherited from the harness (a test runner's SIGALRM, a
 * sanitizer's SIGFPE) make no sense in the worker: back to the defaults,
 * so that a signal ends the worker and waitpid() names it. */
static void reset_signals(void)
{
    sigset_t none;
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction old;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &old))
            continue;
        if (old.sa_handler != SIG_IGN && old.sa_handler != SIG_DFL)
            signal(sig, SIG_DFL);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Ctrl-C is for the harness; the worker follows it via PDEATHSIG. */
    signal(SIGINT, SIG_IGN);
}

/* Installed after fork, so they replace any handler of the harness (or of
 * a sanitizer runtime) in the worker only. */
static int install_fault_handlers(int sock, handshake *hs)
{
    stack_t ss = {0};
    ss.ss_size = ALT_STACK_BYTES;
    ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) != 0)
        return -1;
    fault_fd = sock;
    fault_handshake = hs;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL))
        return -1;
    return 0;
}

static int protect_inputs(const arena *a)
{
    if (mprotect(a->base, a->page, PROT_READ) != 0)
        return -1;
    for (int i = R_LOGITS; i < R_COUNT; i++)
        if (mprotect(a->base + a->off[i], a->cap[i], PROT_READ) != 0)
            return -1;
    return 0;
}

/* Make the grad region writable from ZONE on and inaccessible below it. */
static int protect_grad(const arena *a, unsigned char *zone,
                        unsigned char **current)
{
    if (!zone || zone == *current)
        return 0;
    unsigned char *start = a->base + a->off[R_GRAD];
    unsigned char *end = start + a->cap[R_GRAD];
    if (zone > start && mprotect(start, (size_t)(zone - start), PROT_NONE))
        return -1;
    if (mprotect(zone, (size_t)(end - zone), PROT_READ | PROT_WRITE) != 0)
        return -1;
    *current = zone;
    return 0;
}

static reply run_request(const xc_target *t, const arena *a,
                         unsigned char **current_zone)
{
    const request *rq = (const request *)a->base;
    reply r;
    memset(&r, 0, sizeof r);
    r.kind = REPLY_DONE;
    if (protect_grad(a, rq->zone, current_zone) != 0) {
        r.kind = REPLY_SETUP_FAILED;
        r.rc = errno;
        return r;
    }
    xc_problem p = rq->problem;
    if (rq->kind == CALL_GRAD)
        r.rc = t->grad(&p, rq->grad, t->ctx);
    else
        r.rc = t->loss(&p, &r.loss, t->ctx);
    return r;
}

static int send_reply(int sock, const reply *r)
{
    return write(sock, r, sizeof *r) == (ssize_t)sizeof *r ? 0 : -1;
}

static void worker_setup(const iso *w, int sock, pid_t parent)
{
    reply r;
    memset(&r, 0, sizeof r);
    r.kind = REPLY_READY;
    /* A dead harness must not leave workers behind. */
    /* Crashes are expected here: no core files. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    reset_signals();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent ||
        install_fault_handlers(sock, handshake_of(&w->a)) != 0 ||
        protect_inputs(&w->a) != 0) {
        r.kind = REPLY_SETUP_FAILED;
        r.rc = errno;
    }
    if (send_reply(sock, &r) != 0 || r.kind != REPLY_READY)
        _exit(127);
}

/* Wait for request WANT; -1 when the parent closed its end. */
static int await_request(handshake *hs, int sock, spinner *sp, uint64_t want)
{
    if (spin_until(sp, &hs->req_seq, want, INT64_MAX))
        return 0;
    for (;;) {
        if (ready_before_sleep(&hs->worker_asleep, &hs->req_seq, want))
            return 0;
        char bells[16];
        ssize_t n = read(sock, bells, sizeof bells);
        atomic_store(&hs->worker_asleep, 0);
        if (n == 0 || (n < 0 && errno != EINTR))
            return -1;
        if (atomic_load(&hs->req_seq) == want)
            return 0;
    }
}

static _Noreturn void worker_main(const iso *w, int sock, pid_t parent)
{
    unsigned char *current_zone = NULL;
    spinner sp = {0};
    handshake *hs = handshake_of(&w->a);
    uint64_t seen = atomic_load(&hs->req_seq); /* the parent posts after READY */
    worker_setup(w, sock, parent);
    for (;;) {
        if (await_request(hs, sock, &sp, seen + 1) != 0)
            _exit(0);
        seen++;
        hs->rep = run_request(w->head.target, &w->a, &current_zone);
        if (publish(&hs->rep_seq, seen, &hs->parent_asleep) && ring(sock) != 0)
            _exit(0);
    }
}

/* ---- parent: worker life cycle -------------------------------------- */

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wait until the worker writes to the socket (its READY) or exits: 1, 0
 * on timeout, -1 on error. */
static int wait_event(iso *w, double timeout_s)
{
    struct pollfd fds[2] = {{w->sock, POLLIN, 0}, {w->pidfd, POLLIN, 0}};
    nfds_t nfds = w->pidfd >= 0 ? 2 : 1;
    double deadline = now_s() + timeout_s;
    for (;;) {
        double left = deadline - now_s();
        int ms = left > 0 ? (int)(left * 1000.0) + 1 : 0;
        int n = poll(fds, nfds, ms);
        if (n > 0)
            return 1;
        if (n == 0 && now_s() >= deadline)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* Reap the worker (killing it first when KILL) and return its status. */
static int reap(iso *w, int kill_first)
{
    int st = 0;
    if (kill_first)
        kill(w->pid, SIGKILL);
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
        continue;
    close(w->sock);
    if (w->pidfd >= 0)
        close(w->pidfd);
    w->pid = 0;
    w->sock = w->pidfd = -1;
    w->lost = 1;
    return st;
}

static int read_reply(const iso *w, reply *r)
{
    ssize_t n = recv(w->sock, r, sizeof *r, MSG_DONTWAIT);
    return n == (ssize_t)sizeof *r ? 0 : -1;
}

static int await_ready(iso *w)
{
    reply r;
    double t = w->head.timeout_s > 5.0 ? w->head.timeout_s : 5.0;
    if (wait_event(w, t) == 1 && read_reply(w, &r) == 0 &&
        r.kind == REPLY_READY)
        return 0;
    reap(w, 1);
    return -1;
}

static int spawn(iso *w)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    fflush(NULL); /* a target calling exit() must not flush our buffers */
    handshake *hs = handshake_of(&w->a);
    atomic_store(&hs->worker_asleep, 0); /* a dead worker's flag */
    atomic_store(&hs->parent_asleep, 0);
    atomic_store(&hs->req_seq, w->posted); /* the new worker starts here */
    atomic_store(&hs->rep_seq, w->posted);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        worker_main(w, sv[1], parent);
    }
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return -1;
    }
    w->pid = pid;
    w->sock = sv[0];
    w->pidfd = open_pidfd(pid);
    if (w->lost || w->head.restarts == 0)
        w->head.restarts++;
    w->lost = 0;
    return await_ready(w);
}

static void stop_worker(iso *w)
{
    if (w->pid > 0) {
        reap(w, 1);
        w->lost = 0; /* stopped on purpose: not a failure */
    }
}

/* ---- parent: placing a case ----------------------------------------- */

static int ensure_arena(iso *w, const xc__case *c, xc__call_result *res)
{
    size_t cap[R_COUNT];
    case_bytes(c, w->head.target->dtype, w->bytes);
    /* No arena after a failed growth: map one again. */
    if (!grown_caps(&w->a, w->bytes, cap) && w->a.base)
        return 0;
    stop_worker(w);
    arena_unmap(&w->a);
    if (arena_map(&w->a, cap) == 0)
        return 0;
    arena_unmap(&w->a);
    xc__exec_result(res, XC__CALL_HARNESS_ERROR, errno,
                    "cannot map a %zu-byte arena: %s", w->a.total,
                    strerror(errno));
    return -1;
}

static void place_inputs(iso *w, const xc__case *c, xc__exec_inputs *in)
{
    for (int i = 0; i < R_COUNT; i++)
        w->buf[i] = w->a.base + w->a.off[i] + w->a.cap[i] - w->bytes[i];
    in->logits = w->buf[R_LOGITS];
    in->labels = (int64_t *)(void *)w->buf[R_LABELS];
    in->probs = w->buf[R_PROBS];
    in->weights = w->buf[R_WEIGHTS];
    xc__exec_fill_inputs(c, w->head.target->dtype, in);
}

static int ensure_worker(iso *w, xc__call_result *res)
{
    if (w->pid > 0 || spawn(w) == 0)
        return 0;
    xc__exec_result(res, XC__CALL_HARNESS_ERROR, errno,
                    "cannot start the worker process: %s", strerror(errno));
    return -1;
}

/* Arena, inputs, request and worker for a call of KIND. */
static int prepare(iso *w, const xc__case *c, int kind, xc__call_result *res)
{
    xc__exec_inputs in;
    if (ensure_arena(w, c, res) != 0)
        return -1;
    place_inputs(w, c, &in);
    request *rq = (request *)(void *)w->a.base;
    memset(rq, 0, sizeof *rq);
    rq->kind = kind;
    xc__exec_build_problem(c, w->head.target->dtype, &in, &rq->problem);
    return ensure_worker(w, res);
}

/* The poison zone starts a page boundary below, XC__EXEC_ZONE_MIN at least
 * before row 0; it and the whole buffer are filled with POISON. */
static void place_grad(iso *w, uint32_t poison)
{
    unsigned char *grad = w->buf[R_GRAD];
    uintptr_t low = (uintptr_t)(grad - XC__EXEC_ZONE_MIN);
    w->zone = (unsigned char *)(low / w->a.page * w->a.page);
    xc__exec_poison_fill(w->zone, (size_t)(grad - w->zone) + w->bytes[R_GRAD],
                         poison);
    request *rq = (request *)(void *)w->a.base;
    rq->grad = grad;
    rq->zone = w->zone;
}

/* ---- parent: classifying a failed call ------------------------------ */

static const char *access_word(int access)
{
    return access == 1 ? "wrote" : access == 0 ? "read" : "accessed";
}

static xc__call_status fault_in_region(const iso *w, const reply *r, int i,
                                       xc__call_result *res)
{
    size_t es = i == R_LABELS ? sizeof(int64_t)
                              : xc__dtype_size(w->head.target->dtype);
    ptrdiff_t elem = ((ptrdiff_t)r->addr - (ptrdiff_t)w->buf[i]) /
                     (ptrdiff_t)es;
    if (i == R_GRAD)
        return xc__exec_result(res, XC__CALL_WROTE_OUTSIDE, 0,
                               "%s grad element %td, before the buffer",
                               access_word(r->access), elem);
    return xc__exec_result(res, XC__CALL_WROTE_INPUT, 0,
                           "wrote %s element %td%s", region_names[i], elem,
                           elem < 0 ? ", before the buffer" : "");
}

static xc__call_status fault_past_region(const iso *w, const reply *r, int i,
                                         xc__call_result *res)
{
    char sb[32];
    size_t es = i == R_LABELS ? sizeof(int64_t)
                              : xc__dtype_size(w->head.target->dtype);
    size_t elem = (r->addr - (uintptr_t)w->buf[i]) / es;
    const xc_problem *p = &((const request *)(const void *)w->a.base)->problem;
    size_t last = (p->batch - 1) * p->ld;
    /* The buffer ends after the last row's H elements, so a write to that
     * row's padding [H, ld) lands on the guard page: it is a padding write. */
    if (i == R_GRAD && r->access != 0 && elem < last + p->ld)
        return xc__exec_result(res, XC__CALL_WROTE_PADDING, 0,
                               "wrote the padding of the last row (row %zu, "
                               "element %zu of ld %zu)", p->batch - 1,
                               elem - last, p->ld);
    if (i == R_GRAD && r->access != 0)
        return xc__exec_result(res, XC__CALL_WROTE_OUTSIDE, 0,
                               "%s grad element %zu, past the last row "
                               "(buffer of %zu elements)",
                               access_word(r->access), elem,
                               w->bytes[i] / es);
    return xc__exec_result(res, XC__CALL_CRASHED, r->signo,
                           "%s past the end of %s (element %zu of %zu): %s",
                           access_word(r->access), region_names[i], elem,
                           w->bytes[i] / es,
                           xc__signal_name(r->signo, sb, sizeof sb));
}

static xc__call_status classify_fault(const iso *w, const reply *r,
                                      xc__call_result *res)
{
    const arena *a = &w->a;
    uintptr_t base = (uintptr_t)a->base, addr = r->addr;
    size_t off = addr - base;
    if (addr >= base && off >= 2 * a->page && off < 3 * a->page)
        return xc__exec_result(res, XC__CALL_WROTE_OUTSIDE, 0,
                               "%s %zu bytes before the gradient buffer",
                               access_word(r->access),
                               (size_t)(w->buf[R_GRAD] - (a->base + off)));
    for (int i = 0; addr >= base && i < R_COUNT; i++) {
        if (!w->bytes[i])
            continue;
        if (off >= a->off[i] && off < a->off[i] + a->cap[i])
            return fault_in_region(w, r, i, res);
        if (off >= a->off[i] + a->cap[i] && off < a->off[i] + a->cap[i] +
                                                      a->page)
            return fault_past_region(w, r, i, res);
    }
    char sb[32];
    return xc__exec_result(res, XC__CALL_CRASHED, r->signo,
                           "%s: invalid %s at address 0x%" PRIxPTR "%s",
                           xc__signal_name(r->signo, sb, sizeof sb),
                           r->access == 1 ? "write" : "access", addr,
                           addr >= base && off < a->page
                               ? " (the harness control page)"
                               : "");
}

static xc__call_status classify_death(int st, xc__call_result *res)
{
    char sb[32];
    if (WIFSIGNALED(st))
        return xc__exec_result(res, XC__CALL_CRASHED, WTERMSIG(st),
                               "worker killed by %s",
                               xc__signal_name(WTERMSIG(st), sb, sizeof sb));
    if (WIFEXITED(st))
        return xc__exec_result(res, XC__CALL_EXITED, WEXITSTATUS(st),
                               "worker exited with status %d during the call",
                               WEXITSTATUS(st));
    return xc__exec_result(res, XC__CALL_CRASHED, 0,
                           "worker ended with wait status %#x", (unsigned)st);
}

/* ---- parent: one call ----------------------------------------------- */

/* Whether the worker has exited (its pidfd is readable); without a pidfd
 * the ring below finds out (EPIPE). */
static int worker_exited(const iso *w)
{
    struct pollfd p = {w->pidfd, POLLIN, 0};
    return w->pidfd >= 0 && poll(&p, 1, 0) > 0;
}

/* Publish the prepared request; ring when the worker sleeps, or always
 * without a pidfd (the ring then tells a dead worker). */
static int post_request(iso *w)
{
    handshake *hs = handshake_of(&w->a);
    int asleep = publish(&hs->req_seq, ++w->posted, &hs->worker_asleep);
    return asleep || w->pidfd < 0 ? ring(w->sock) : 0;
}

/* Start the call; a worker that died between calls is replaced once. */
static int start_call(iso *w, xc__call_result *res)
{
    if (!worker_exited(w) && post_request(w) == 0)
        return 0;
    reap(w, 1);
    if (ensure_worker(w, res) != 0)
        return -1;
    if (post_request(w) == 0)
        return 0;
    int err = errno;
    reap(w, 1);
    xc__exec_result(res, XC__CALL_HARNESS_ERROR, err,
                    "cannot reach the worker: %s", strerror(err));
    return -1;
}

/* After a wake-up with FDS' events: whether the worker has ended (its
 * process exited or its end of the socket closed). Reads the bells, so
 * that the next sleep does not end at once on this one. */
static int worker_ended(const iso *w, const struct pollfd *fds, nfds_t nfds)
{
    if (nfds > 1 && (fds[1].revents & POLLIN))
        return 1;
    for (;;) {
        char bells[16];
        ssize_t n = recv(w->sock, bells, sizeof bells, MSG_DONTWAIT);
        if (n == 0)
            return 1;
        if (n < 0)
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
}

/* TIMEOUT_S from now, in now_ns() time; far timeouts saturate. */
static int64_t deadline_after(double timeout_s)
{
    const double far_ns = 0x1p61; /* 73 years, and no overflow below */
    double ns = timeout_s * 1e9;
    return now_ns() + (int64_t)(ns < far_ns ? ns : far_ns);
}

/* Milliseconds for poll() until DEADLINE_NS, at least 1 before it. */
static int poll_ms(int64_t deadline_ns)
{
    int64_t left = deadline_ns - now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = left / 1000000 + 1;
    return ms < INT_MAX ? (int)ms : INT_MAX;
}

/* Whether the worker has answered the call in flight: its number equals
 * ours exactly (a target scribbling on the page cannot pass for one). */
static int answered(const iso *w)
{
    return atomic_load(&handshake_of(&w->a)->rep_seq) == w->posted;
}

/* Wait for the answer to the call in flight: 1 when it is in the
 * handshake page, 2 when the worker ended without one, 0 on timeout, -1
 * on error. The spin counts toward the timeout. */
static int wait_reply(iso *w, double timeout_s)
{
    handshake *hs = handshake_of(&w->a);
    int64_t deadline = deadline_after(timeout_s);
    if (spin_until(&w->spin, &hs->rep_seq, w->posted, deadline))
        return 1;
    struct pollfd fds[2] = {{w->sock, POLLIN, 0}, {w->pidfd, POLLIN, 0}};
    nfds_t nfds = w->pidfd >= 0 ? 2 : 1;
    for (;;) {
        if (ready_before_sleep(&hs->parent_asleep, &hs->rep_seq, w->posted))
            return 1;
        int n = poll(fds, nfds, poll_ms(deadline));
        int poll_errno = errno;
        atomic_store(&hs->parent_asleep, 0);
        int ended = n > 0 && worker_ended(w, fds, nfds);
        if (answered(w))
            return 1;
        if (n < 0 && poll_errno != EINTR) {
            errno = poll_errno;
            return -1;
        }
        if (ended)
            return 2;
        if (now_ns() >= deadline)
            return 0;
    }
}

/* After an event EV without a normal reply: end the worker, say why. */
static void settle(iso *w, int ev, const reply *r, xc__call_result *res)
{
    int err = errno;
    if (ev == 0) {
        reap(w, 1);
        xc__exec_result(res, XC__CALL_HUNG, 0, "no answer within %g s",
                        w->head.timeout_s);
    } else if (r->kind == REPLY_FAULT) {
        reap(w, 1);
        classify_fault(w, r, res);
    } else if (r->kind == REPLY_SETUP_FAILED || ev < 0) {
        err = ev < 0 ? err : r->rc;
        reap(w, 1);
        xc__exec_result(res, XC__CALL_HARNESS_ERROR, err,
                        "worker could not run the call: %s", strerror(err));
    } else {
        /* Closed socket or exited process: the wait status tells why. A
         * process already exiting keeps its status despite the SIGKILL,
         * which only ends one that closed its socket and lives on. */
        classify_death(reap(w, 1), res);
    }
}

/* Run the prepared call; 0 with *R on an answer, else RES is the verdict. */
static int round_trip(iso *w, reply *r, xc__call_result *res)
{
    memset(r, 0, sizeof *r);
    if (start_call(w, res) != 0)
        return -1;
    int ev = wait_reply(w, w->head.timeout_s);
    if (ev == 1)
        *r = handshake_of(&w->a)->rep;
    if (ev == 1 && r->kind == REPLY_DONE)
        return 0;
    settle(w, ev, r, res);
    return -1;
}

static xc__call_status verdict(int rc, xc__call_result *res)
{
    if (rc != 0)
        return xc__exec_result(res, XC__CALL_RETURNED_ERROR, rc,
                               "target returned %d", rc);
    return xc__exec_result(res, XC__CALL_OK, 0, "ok");
}

/* Whether the BYTES (a multiple of 4) at Z all hold POISON: the first word
 * does and every byte equals the one 4 before it. One memcmp (vectorised)
 * instead of a word loop, which cost ~1 us per call on a zone of nearly a
 * page, the most of any step of a small call. */
static int zone_intact(const unsigned char *z, size_t bytes, uint32_t poison)
{
    return bytes < 4 || (memcmp(z, &poison, 4) == 0 &&
                         memcmp(z, z + 4, bytes - 4) == 0);
}

static int check_zone(const iso *w, uint32_t poison, xc__call_result *res)
{
    unsigned char *grad = w->buf[R_GRAD];
    size_t bytes = (size_t)(grad - w->zone);
    if (zone_intact(w->zone, bytes, poison))
        return 0;
    size_t bad = xc__exec_poison_first_bad(w->zone, bytes, poison);
    if (bad == bytes / 4)
        return 0;
    size_t es = xc__dtype_size(w->head.target->dtype);
    ptrdiff_t elem = -(ptrdiff_t)((bytes - bad * 4 + es - 1) / es);
    xc__exec_result(res, XC__CALL_WROTE_OUTSIDE, 0,
                    "wrote grad element %td, before the buffer", elem);
    return 1;
}

static xc__call_status iso_grad(xc__exec *ex, const xc__case *c,
                                uint32_t poison, double *grad_out,
                                xc__call_result *res)
{
    iso *w = (iso *)ex;
    xc_dtype t = ex->target->dtype;
    reply r;
    if (prepare(w, c, CALL_GRAD, res) != 0)
        return res->status;
    place_grad(w, poison);
    if (round_trip(w, &r, res) != 0 || check_zone(w, poison, res) ||
        xc__exec_check_padding(c, t, w->buf[R_GRAD], poison, res))
        return res->status;
    if (verdict(r.rc, res) == XC__CALL_OK)
        xc__exec_grad_to_double(c, t, w->buf[R_GRAD], grad_out);
    return res->status;
}

static xc__call_status iso_loss(xc__exec *ex, const xc__case *c,
                                double *loss_out, xc__call_result *res)
{
    iso *w = (iso *)ex;
    reply r;
    if (prepare(w, c, CALL_LOSS, res) != 0 || round_trip(w, &r, res) != 0)
        return res->status;
    if (verdict(r.rc, res) == XC__CALL_OK)
        *loss_out = r.loss;
    return res->status;
}

static void iso_destroy(xc__exec *ex)
{
    iso *w = (iso *)ex;
    stop_worker(w);
    arena_unmap(&w->a);
    free(w);
}

static const xc__exec_ops iso_ops = {iso_grad, iso_loss, iso_destroy};

xc__exec *xc__exec_isolated_new(const xc_target *target, double timeout_s)
{
    iso *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->head.ops = &iso_ops;
    w->head.target = target;
    w->head.timeout_s = timeout_s;
    w->sock = w->pidfd = -1;
    w->a.page = (size_t)sysconf(_SC_PAGESIZE);
    size_t cap[R_COUNT];
    for (int i = 0; i < R_COUNT; i++)
        cap[i] = INITIAL_REGION_PAGES * w->a.page;
    if (arena_map(&w->a, cap) != 0 || spawn(w) != 0) {
        iso_destroy(&w->head);
        return NULL;
    }
    return &w->head;
}
