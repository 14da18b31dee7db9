/* The finite network in double precision (see nn_impl.h). */
#define NN_SINGLE 0
#include "nn_impl.h"
