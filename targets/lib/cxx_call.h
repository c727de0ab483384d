/* Internal to the C++ adapters of targets/lib/: the one rule of their
 * extern "C" callbacks, that no C++ exception crosses into C. */
#ifndef XC_TARGETS_LIB_CXX_CALL_H
#define XC_TARGETS_LIB_CXX_CALL_H

/* 0 when OK and BODY() returns; -1 when the problem is not OK or BODY
 * throws anything. */
template <typename Body>
int xc__cxx_call(bool ok, Body body) noexcept
{
    try {
        if (!ok)
            return -1;
        body();
        return 0;
    } catch (...) {
        return -1;
    }
}

#endif
