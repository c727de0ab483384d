/* The cross-entropy driver in f64 (see xent_impl.h). */
#include "xent.h"

#define XT double
#define XT_DTYPE XC_F64
#define XT_EXP exp
#define XT_LOG log
#define XT_SOFTMAX xc__softmax_f64_fn
#define XT_FN(f) f##_f64

#include "xent_impl.h"
