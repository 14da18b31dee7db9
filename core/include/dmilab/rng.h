/* dmilab: deterministic random numbers (xoshiro256** seeded through splitmix64). */
#ifndef DMILAB_RNG_H
#define DMILAB_RNG_H

#include <stdint.h>
#include <stddef.h>

/** Generator state. Same seed, same stream, on every platform. */
typedef struct { uint64_t s[4]; } dml_rng;

/** Seed from a list of integers (e.g. {experiment seed, repeat, purpose}); order matters. */
void dml_rng_seed(dml_rng *r, const uint64_t *keys, size_t nkeys);
/** Next 64 random bits (xoshiro256**, Blackman & Vigna 2018). */
uint64_t dml_rng_next(dml_rng *r);
/** Uniform double in [0, 1) with 53 random bits. */
double dml_rng_uniform(dml_rng *r);
/** Uniform integer in [0, n), unbiased (Lemire's method). n > 0. */
uint64_t dml_rng_below(dml_rng *r, uint64_t n);
/** Standard normal N(0, 1) by the Box-Muller transform (one value per call, no caching). */
double dml_rng_normal(dml_rng *r);
/** Fill perm[0..n) with a uniformly random permutation of 0..n-1 (Fisher-Yates). */
void dml_rng_permutation(dml_rng *r, size_t *perm, size_t n);

#endif
