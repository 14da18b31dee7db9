/* dmilab internal: the real type of one pass over a layer family's precision-generic code. A family file
 * (dense.c, conv.c, ...) includes itself twice, with LAYER_PASS 32 and then 64, after its precision-free
 * part; each pass includes this header first. NN(name) is the name of the pass's build (name_f32, name_f64). */
#undef R
#undef GEMM
#undef NN
#undef RSQRT
#undef RERF
#undef REXP
#if LAYER_PASS == 32
#define R float
#define GEMM cblas_sgemm
#define NN(x) x##_f32
#define RSQRT sqrtf
#define RERF erff
#define REXP expf
#elif LAYER_PASS == 64
#define R double
#define GEMM cblas_dgemm
#define NN(x) x##_f64
#define RSQRT sqrt
#define RERF erf
#define REXP exp
#else
#error "LAYER_PASS must be 32 or 64"
#endif

/* Elementwise loops get AVX-512 / AVX2 builds next to the baseline one, picked at load time (GCC ifunc). */
#ifndef NN_CLONES
#define NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

#ifndef RM
#define RM CblasRowMajor
#define NT CblasNoTrans
#define TT CblasTrans
#endif
