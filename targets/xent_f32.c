/* The cross-entropy driver in f32 (see xent_impl.h). */
#include "xent.h"

#define XT float
#define XT_DTYPE XC_F32
#define XT_EXP expf
#define XT_LOG logf
#define XT_SOFTMAX xc__softmax_f32_fn
#define XT_FN(f) f##_f32

#include "xent_impl.h"
