/* Deterministic random numbers: xoshiro256** seeded by splitmix64; uniform, bounded, normal draws, permutations. */
#include <math.h>
#include "dmilab/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void dml_rng_seed(dml_rng *r, const uint64_t *keys, size_t nkeys)
{
    uint64_t x = 0x243f6a8885a308d3ULL;   /* digits of pi: a fixed, documented start */
    for (size_t i = 0; i < nkeys; i++) {
        x ^= keys[i];
        x = splitmix64(&x);
    }
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t dml_rng_next(dml_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double dml_rng_uniform(dml_rng *r) { return (double)(dml_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t dml_rng_below(dml_rng *r, uint64_t n)
{
    __uint128_t m = (__uint128_t)dml_rng_next(r) * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            m = (__uint128_t)dml_rng_next(r) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double dml_rng_normal(dml_rng *r)
{
    double u1 = 1.0 - dml_rng_uniform(r);   /* (0, 1] */
    double u2 = dml_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void dml_rng_permutation(dml_rng *r, size_t *perm, size_t n)
{
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)dml_rng_below(r, i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}
