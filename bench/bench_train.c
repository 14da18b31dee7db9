/* Training throughput of the finite networks (DESIGN section 7, reference workload "Training"): the four
 * architectures of bench/peers/torch_train.py (depth 2, 3x3 same filters, width 64 channels or 512 units,
 * one input channel, 10 outputs, batch 128, plain SGD lr 0.05, mse on one-hot minus 0.1 targets), float32.
 *
 * Usage: bench_train [--threads T] [--size S] [--steps N] [--arch fcn|lcn|cnn-vec|cnn-gap|all] [--width W] [--cpu]
 * Prints one line per arch, like the peer: 'arch images_per_s=... params=...'. --cpu divides by the
 * process's CPU time instead of wall time (images per CPU-second: steadier on a busy machine).
 * Timing: a run of 3 + N steps minus a run of 3 steps (each through dml_train on 128 random images, one
 * step per epoch), so set-up, warm-up and the final evaluation cancel out.
 *
 * bench_train --accuracy [--threads T] [--epochs E] [--width W] [--arch A]: test accuracy of every arch
 * trained with sgd and adam (a small learning-rate grid each) on the first 1000 Fashion-MNIST training
 * images at 14x14 (resize 2), tested on the first 1000 test images; mse loss, batch 64, depth 2, relu,
 * 3x3 same filters, parameterization ntk, float32. One line per run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dmilab/nn.h"
#include "dmilab/rng.h"

static int use_cpu_clock;

static double now(void)
{
    struct timespec t;
    clock_gettime(use_cpu_clock ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double run(const dml_layers *L, const dml_dataset *d, int threads, int steps)
{
    dml_error err;
    dml_net *net = dml_net_create(L, DML_PARAM_NTK, DML_F32, 0, threads, 128, &err);
    if (!net) {
        fprintf(stderr, "bench_train: %s\n", err.message);
        exit(2);
    }
    dml_train_config c;
    dml_train_config_defaults(&c, DML_OPT_SGD);
    c.lr = 0.05;
    c.momentum = 0.0;
    c.batch = 128;
    c.epochs = steps;
    c.eval_every = 1000000;
    dml_train_result r;
    double t0 = now();
    if (dml_train(net, &c, d, NULL, &r, NULL, NULL, &err)) {
        fprintf(stderr, "bench_train: %s\n", err.message);
        exit(2);
    }
    double t = now() - t0;
    dml_train_result_free(&r);
    dml_net_free(net);
    return t;
}

static int load(const char *prefix, size_t n, dml_dataset *d)
{
    dml_error err;
    const dml_idx_split *s = dml_idx_acquire("/", "/usr/share/datasets/fashion-mnist", prefix, &err);
    if (!s || s->n < n) {
        fprintf(stderr, "bench_train: %s\n", s ? "split too small" : err.message);
        return -1;
    }
    int h = s->rows / 2, w = s->cols / 2;
    *d = (dml_dataset){.n = n, .shape = {.nd = 2, .size = {h, w}, .channels = 1}, .k = 10};
    d->x = malloc(sizeof(double) * n * h * w);
    d->y = malloc(sizeof(double) * n * 10);
    d->label = malloc(sizeof(int) * n);
    for (size_t i = 0; i < n; i++) {
        dml_preprocess_image(s->images + i * s->rows * s->cols, s->rows, s->cols, 2, d->x + i * h * w);
        d->label[i] = s->labels[i];
    }
    dml_one_hot(d->label, n, 10, d->y);
    return 0;
}

static int accuracy(int threads, int epochs, int width, const char *only)
{
    dml_dataset tr, te;
    if (load("train", 1000, &tr) || load("t10k", 1000, &te)) return 2;
    static const dml_arch archs[] = {DML_ARCH_FCN, DML_ARCH_LCN, DML_ARCH_CNN_VEC, DML_ARCH_CNN_GAP};
    static const double sgd_lr[] = {0.2, 1.0}, adam_lr[] = {0.003, 0.01};
    for (int a = 0; a < 4; a++) {
        if (strcmp(only, "all") && strcmp(only, dml_arch_name(archs[a]))) continue;
        dml_model m;
        dml_model_defaults(&m);
        m.arch = archs[a];
        m.width = width;
        dml_layers L;
        dml_error err;
        if (dml_model_layers(&m, &tr.shape, 10, &L, &err)) return 2;
        for (int opt = 0; opt < 2; opt++)
            for (int j = 0; j < 2; j++) {
                dml_net *net = dml_net_create(&L, DML_PARAM_NTK, DML_F32, 0, threads, 64, &err);
                dml_train_config c;
                dml_train_config_defaults(&c, opt ? DML_OPT_ADAM : DML_OPT_SGD);
                c.lr = opt ? adam_lr[j] : sgd_lr[j];
                c.epochs = epochs;
                c.batch = 64;
                dml_train_result r;
                double t0 = now();
                if (!net || dml_train(net, &c, &tr, &te, &r, NULL, NULL, &err)) {
                    fprintf(stderr, "bench_train: %s\n", err.message);
                    return 2;
                }
                printf("%-8s %-4s lr %-6g width %d epochs %d: test_accuracy %.4f test_mse %.4f train_mse %.4f "
                       "(%.1f s)%s\n",
                       dml_arch_name(archs[a]), dml_optimizer_name(c.method), c.lr, width, epochs, r.test_accuracy,
                       r.test_mse, r.train_mse, now() - t0, r.diverged ? " diverged" : "");
                fflush(stdout);
                dml_train_result_free(&r);
                dml_net_free(net);
            }
    }
    dml_dataset_free(&tr);
    dml_dataset_free(&te);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 2, size = 28, steps = 20, acc = 0, epochs = 20, width = 128, width_set = 0;
    const char *only = "all";
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--cpu")) {
            use_cpu_clock = 1;
            i--;
        } else if (!strcmp(argv[i], "--accuracy")) {
            acc = 1;
            i--;
        } else if (i + 1 >= argc) {
            fprintf(stderr, "bench_train: %s needs a value\n", argv[i]);
            return 2;
        } else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--arch")) only = argv[i + 1];
        else if (!strcmp(argv[i], "--epochs")) epochs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--width")) width = atoi(argv[i + 1]), width_set = 1;
        else {
            fprintf(stderr, "usage: bench_train [--threads T] [--size S] [--steps N] [--arch A|all] [--width W] [--cpu]\n"
                            "       bench_train --accuracy [--threads T] [--epochs E] [--width W] [--arch A|all]\n");
            return 2;
        }
    }
    if (acc) return accuracy(threads, epochs, width, only);
    const int B = 128;
    dml_dataset d = {.n = B, .shape = {.nd = 2, .size = {size, size}, .channels = 1}, .k = 10};
    d.x = malloc(sizeof(double) * B * size * size);
    d.y = malloc(sizeof(double) * B * 10);
    d.label = malloc(sizeof(int) * B);
    dml_rng r;
    uint64_t key = 0;
    dml_rng_seed(&r, &key, 1);
    for (int j = 0; j < B * size * size; j++) d.x[j] = dml_rng_normal(&r);
    for (int i = 0; i < B; i++) d.label[i] = (int)dml_rng_below(&r, 10);
    dml_one_hot(d.label, B, 10, d.y);
    static const dml_arch archs[] = {DML_ARCH_FCN, DML_ARCH_LCN, DML_ARCH_CNN_VEC, DML_ARCH_CNN_GAP};
    for (int a = 0; a < 4; a++) {
        if (strcmp(only, "all") && strcmp(only, dml_arch_name(archs[a]))) continue;
        dml_model m;
        dml_model_defaults(&m);
        m.arch = archs[a];
        m.width = width_set ? width : archs[a] == DML_ARCH_FCN ? 512 : 64;
        dml_layers L;
        dml_error err;
        if (dml_model_layers(&m, &d.shape, 10, &L, &err)) {
            fprintf(stderr, "bench_train: %s\n", err.message);
            return 2;
        }
        dml_net *probe = dml_net_create(&L, DML_PARAM_NTK, DML_F32, 0, threads, 1, &err);
        size_t np = probe ? dml_net_num_params(probe) : 0;
        dml_net_free(probe);
        int n = steps;
        if (archs[a] == DML_ARCH_LCN && size >= 28 && n > 10) n = 10;   /* lcn at 28x28 is slow everywhere */
        double t = run(&L, &d, threads, 3 + n) - run(&L, &d, threads, 3);
        printf("%s images_per_s=%.1f params=%zu\n", dml_arch_name(archs[a]), B * n / t, np);
        fflush(stdout);
    }
    dml_dataset_free(&d);
    return 0;
}
