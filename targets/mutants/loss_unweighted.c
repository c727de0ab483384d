/* mutant.loss_unweighted: the loss forgets the class weights (the forward
 * pass of an unweighted loss paired with a weighted backward pass); the
 * gradient is correct. */
#include "mutant.h"
#include "mutants.h"

int xc__mut_loss_unweighted_loss(const xc_problem *p, double *loss, void *ctx)
{
    xc_problem plain = *p;
    plain.weights = NULL;
    return mt_loss(&plain, loss, ctx);
}
