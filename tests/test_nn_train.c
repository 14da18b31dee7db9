/* Finite networks: training on Fashion-MNIST (argv[1]: the IDX directory).
 *   - full-batch gd on 256 images (14x14) drives the training loss down by at least 10x (fcn and cnn-gap);
 *   - the same seed gives bit-identical parameters and metrics, on the same thread count and across thread
 *     counts (float32; sgd with momentum, adam and gd; 1, 2 and 3 threads);
 *   - short sgd / adam runs reach clearly better-than-chance test accuracy (chance is 0.1);
 *   - the defaults of DESIGN section 3, the training curve, and argument errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dmilab/nn.h"

static int load(const char *dir, const char *prefix, size_t off, size_t n, dml_dataset *d)
{
    dml_error err;
    const dml_idx_split *s = dml_idx_acquire("/", dir, prefix, &err);
    if (!s) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    int h = s->rows / 2, w = s->cols / 2;
    memset(d, 0, sizeof *d);
    d->n = n;
    d->shape = (dml_shape){.nd = 2, .size = {h, w}, .channels = 1};
    d->k = 10;
    d->x = malloc(sizeof(double) * n * h * w);
    d->y = malloc(sizeof(double) * n * 10);
    d->label = malloc(sizeof(int) * n);
    for (size_t i = 0; i < n; i++) {
        dml_preprocess_image(s->images + (off + i) * s->rows * s->cols, s->rows, s->cols, 2, d->x + i * h * w);
        d->label[i] = s->labels[off + i];
    }
    dml_one_hot(d->label, n, 10, d->y);
    return 0;
}

static dml_net *make(dml_arch arch, int width, dml_precision prec, uint64_t seed, int threads, const dml_shape *sh)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = arch;
    m.width = width;
    dml_layers L;
    dml_error err;
    if (dml_model_layers(&m, sh, 10, &L, &err)) return NULL;
    return dml_net_create(&L, DML_PARAM_NTK, prec, seed, threads, 0, &err);
}

static void gd_loss_drops(const dml_dataset *tr, const dml_dataset *te, dml_arch arch, int width, double lr,
                          int epochs)
{
    dml_net *net = make(arch, width, DML_F32, 1, 2, &tr->shape);
    dml_train_config c;
    dml_train_config_defaults(&c, DML_OPT_GD);
    c.lr = lr;
    c.epochs = epochs;
    dml_train_result r;
    dml_error err;
    int rc = dml_train(net, &c, tr, te, &r, NULL, NULL, &err);
    CHECK(rc == 0, "gd %s: %s", dml_arch_name(arch), err.message);
    if (rc == 0) {
        double first = r.curve[0].train_loss, last = r.curve[r.n_curve - 1].train_loss;
        printf("  gd %-8s lr %.2g, %d epochs: train loss %.4f -> %.5f (x%.0f), train mse %.4f, test acc %.3f\n",
               dml_arch_name(arch), lr, epochs, first, last, first / last, r.train_mse, r.test_accuracy);
        CHECK(first / last >= 10, "gd %s: loss only fell from %g to %g", dml_arch_name(arch), first, last);
        CHECK(r.n_curve == epochs && r.curve[epochs - 1].evaluated, "curve");
        CHECK(fabs(r.train_mse - 2 * last) < 0.5 * 2 * last + 1e-3, "train mse %g vs 2 x last loss %g", r.train_mse,
              last);
        dml_train_result_free(&r);
    }
    dml_net_free(net);
}

/* Two runs from the same seed and thread count: identical parameters, metrics and curves. */
static void deterministic(const dml_dataset *tr, const dml_dataset *te, dml_optimizer opt, dml_arch arch, int batch,
                          int threads0, int threads1)
{
    int threads[2] = {threads0, threads1};
    double *p[2] = {NULL, NULL};
    dml_train_result r[2];
    size_t np = 0;
    for (int run = 0; run < 2; run++) {
        dml_net *net = make(arch, 32, DML_F32, 3, threads[run], &tr->shape);
        dml_train_config c;
        dml_train_config_defaults(&c, opt);
        c.epochs = 3;
        c.batch = batch;
        c.shuffle_seed = 9;
        c.weight_decay = 1e-4;
        c.schedule = DML_SCHED_COSINE;
        c.nesterov = 1;
        dml_error err;
        CHECK(dml_train(net, &c, tr, te, &r[run], NULL, NULL, &err) == 0, "train: %s", err.message);
        np = dml_net_num_params(net);
        p[run] = malloc(sizeof(double) * np);
        dml_net_get_params(net, p[run]);
        dml_net_free(net);
    }
    CHECK(memcmp(p[0], p[1], sizeof(double) * np) == 0,
          "%s %s, batch %d: parameters differ between identical runs on %d and %d threads", dml_optimizer_name(opt),
          dml_arch_name(arch), batch, threads0, threads1);
    CHECK(r[0].test_mse == r[1].test_mse && r[0].test_accuracy == r[1].test_accuracy &&
              r[0].train_mse == r[1].train_mse,
          "%s, %d and %d threads: metrics differ (test MSE %.17g, %.17g)", dml_optimizer_name(opt), threads0, threads1,
          r[0].test_mse, r[1].test_mse);
    int same = r[0].n_curve == r[1].n_curve;
    for (int e = 0; same && e < r[0].n_curve; e++) same = r[0].curve[e].train_loss == r[1].curve[e].train_loss;
    CHECK(same, "%s, %d and %d threads: curves differ", dml_optimizer_name(opt), threads0, threads1);
    for (int run = 0; run < 2; run++) {
        free(p[run]);
        dml_train_result_free(&r[run]);
    }
}

static void accuracy(const dml_dataset *tr, const dml_dataset *te, dml_optimizer opt, dml_arch arch, int width,
                     dml_loss loss, double lr, int epochs, double min_acc)
{
    dml_net *net = make(arch, width, DML_F32, 4, 2, &tr->shape);
    dml_train_config c;
    dml_train_config_defaults(&c, opt);
    c.lr = lr;
    c.epochs = epochs;
    c.batch = 32;
    c.loss = loss;
    dml_train_result r;
    dml_error err;
    int rc = dml_train(net, &c, tr, te, &r, NULL, NULL, &err);
    CHECK(rc == 0, "%s: %s", dml_optimizer_name(opt), err.message);
    if (rc == 0) {
        printf("  %-4s %-8s %s lr %.3g, %d epochs: test acc %.3f, test mse %.4f, train mse %.4f\n",
               dml_optimizer_name(opt), dml_arch_name(arch), loss == DML_LOSS_MSE ? "mse" : "ce", lr, epochs,
               r.test_accuracy, r.test_mse, r.train_mse);
        CHECK(r.test_accuracy >= min_acc, "%s %s: test accuracy %.3f < %.2f", dml_optimizer_name(opt),
              dml_arch_name(arch), r.test_accuracy, min_acc);
        dml_train_result_free(&r);
    }
    dml_net_free(net);
}

static void defaults_and_errors(const dml_dataset *tr)
{
    dml_train_config c;
    dml_train_config_defaults(&c, DML_OPT_SGD);
    CHECK(c.lr == 0.1 && c.momentum == 0.9 && !c.nesterov && c.epochs == 20 && c.batch == 64 &&
              c.schedule == DML_SCHED_CONSTANT && c.weight_decay == 0 && c.loss == DML_LOSS_MSE,
          "sgd defaults");
    dml_train_config_defaults(&c, DML_OPT_GD);
    CHECK(c.lr == 0.1 && c.momentum == 0.0, "gd defaults");
    dml_train_config_defaults(&c, DML_OPT_ADAM);
    CHECK(c.lr == 0.001 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.eps == 1e-8, "adam defaults");
    /* a network for other inputs is rejected */
    dml_shape other = {.nd = 2, .size = {7, 7}, .channels = 1};
    dml_net *net = make(DML_ARCH_FCN, 8, DML_F64, 1, 1, &other);
    dml_train_result r;
    dml_error err;
    CHECK(dml_train(net, &c, tr, NULL, &r, NULL, NULL, &err) == -1 && err.code == DML_ERR_INVALID_SPEC,
          "shape mismatch accepted");
    dml_net_free(net);
}

static int cancel_at_2(void *ctx, int epoch, int epochs)
{
    (void)epochs;
    *(int *)ctx = epoch;
    return epoch >= 2;
}

static void cancel(const dml_dataset *tr)
{
    dml_net *net = make(DML_ARCH_FCN, 16, DML_F32, 1, 1, &tr->shape);
    dml_train_config c;
    dml_train_config_defaults(&c, DML_OPT_SGD);
    c.epochs = 5;
    dml_train_result r;
    dml_error err;
    int seen = 0;
    CHECK(dml_train(net, &c, tr, NULL, &r, cancel_at_2, &seen, &err) == -1 && err.code == DML_ERR_CANCELLED &&
              seen == 2,
          "cancel");
    dml_net_free(net);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    dml_dataset tr, te;
    if (load(dir, "train", 0, 256, &tr) || load(dir, "t10k", 0, 500, &te)) {
        CHECK(0, "cannot read Fashion-MNIST from %s", dir);
        return check_summary("nn_train");
    }
    defaults_and_errors(&tr);
    cancel(&tr);
    gd_loss_drops(&tr, &te, DML_ARCH_FCN, 256, 1.0, 150);
    gd_loss_drops(&tr, &te, DML_ARCH_CNN_VEC, 32, 1.0, 120);
    deterministic(&tr, &te, DML_OPT_SGD, DML_ARCH_CNN_VEC, 50, 2, 2);
    deterministic(&tr, &te, DML_OPT_ADAM, DML_ARCH_LCN, 50, 2, 2);
    deterministic(&tr, &te, DML_OPT_GD, DML_ARCH_CNN_GAP, 50, 2, 2);
    /* the thread count changes who computes what, never the result: the same sums in the same order */
    deterministic(&tr, &te, DML_OPT_SGD, DML_ARCH_FCN, 64, 1, 2);
    deterministic(&tr, &te, DML_OPT_ADAM, DML_ARCH_FCN, 64, 2, 3);
    deterministic(&tr, &te, DML_OPT_ADAM, DML_ARCH_CNN_VEC, 50, 1, 3);
    deterministic(&tr, &te, DML_OPT_GD, DML_ARCH_FCN, 0, 1, 2);
    /* 256 training images, 5 epochs of batch 32 (40 steps): chance is 0.1 */
    accuracy(&tr, &te, DML_OPT_SGD, DML_ARCH_FCN, 256, DML_LOSS_MSE, 1.0, 5, 0.5);
    accuracy(&tr, &te, DML_OPT_SGD, DML_ARCH_FCN, 256, DML_LOSS_CROSS_ENTROPY, 0.5, 5, 0.5);
    accuracy(&tr, &te, DML_OPT_ADAM, DML_ARCH_CNN_VEC, 64, DML_LOSS_MSE, 0.01, 5, 0.5);
    dml_dataset_free(&tr);
    dml_dataset_free(&te);
    return check_summary("nn_train");
}
