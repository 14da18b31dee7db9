/* The finite network in single precision (see nn_impl.h). */
#define NN_SINGLE 1
#include "nn_impl.h"
