/* Call results: status names, formatted details, signal names. */
#include "exec_common.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

const char *xc__call_status_str(xc__call_status s)
{
    switch (s) {
    case XC__CALL_OK: return "ok";
    case XC__CALL_RETURNED_ERROR: return "returned an error";
    case XC__CALL_CRASHED: return "crashed";
    case XC__CALL_HUNG: return "hung";
    case XC__CALL_EXITED: return "exited";
    case XC__CALL_WROTE_INPUT: return "wrote an input";
    case XC__CALL_WROTE_PADDING: return "wrote the gradient padding";
    case XC__CALL_WROTE_OUTSIDE: return "wrote outside the gradient buffer";
    case XC__CALL_HARNESS_ERROR: return "harness error";
    }
    return "unknown status";
}

xc__call_status xc__exec_result(xc__call_result *res, xc__call_status s,
                                int code, const char *fmt, ...)
{
    va_list ap;
    res->status = s;
    res->code = code;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
    return s;
}

const char *xc__signal_name(int sig, char *buf, size_t size)
{
    static const struct { int sig; const char *name; } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"},   {SIGABRT, "SIGABRT"},
        {SIGFPE, "SIGFPE"},   {SIGILL, "SIGILL"},   {SIGKILL, "SIGKILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGSYS, "SIGSYS"},   {SIGTERM, "SIGTERM"},
        {SIGALRM, "SIGALRM"}, {SIGINT, "SIGINT"},   {SIGXCPU, "SIGXCPU"},
        {SIGPIPE, "SIGPIPE"}, {SIGHUP, "SIGHUP"},   {SIGQUIT, "SIGQUIT"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, size, "signal %d", sig);
    return buf;
}
