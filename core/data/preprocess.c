/* Real-image preprocessing (DESIGN section 3), in double precision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/data.h"

void dml_preprocess_image(const uint8_t *img, int rows, int cols, int resize, double *out)
{
    int h = rows / resize, w = cols / resize;
    double inv = 1.0 / ((double)resize * resize);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            for (int dy = 0; dy < resize; dy++)
                for (int dx = 0; dx < resize; dx++) s += img[(y * resize + dy) * cols + x * resize + dx] / 255.0;
            out[y * w + x] = s * inv;
        }
    dml_standardize(out, (size_t)h * w);
}

void dml_standardize(double *out, size_t n)
{
    int constant = 1;
    for (size_t i = 1; i < n && constant; i++) constant = out[i] == out[0];
    if (constant) {   /* zero deviation: stays at zero (and no rounding noise gets amplified) */
        memset(out, 0, sizeof *out * n);
        return;
    }
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) mean += out[i];
    mean /= (double)n;
    double var = 0.0;
    for (size_t i = 0; i < n; i++) var += (out[i] - mean) * (out[i] - mean);
    double sd = sqrt(var / (double)n);
    for (size_t i = 0; i < n; i++) out[i] = sd > 0.0 ? (out[i] - mean) / sd : 0.0;
}

void dml_pool_image(const double *img, int rows, int cols, int channels, int resize, int u8, double *out)
{
    int h = rows / resize, w = cols / resize, C = channels;
    double inv = 1.0 / ((double)resize * resize);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < C; c++) {
                double s = 0.0;
                for (int dy = 0; dy < resize; dy++)
                    for (int dx = 0; dx < resize; dx++) {
                        double v = img[((size_t)(y * resize + dy) * cols + x * resize + dx) * C + c];
                        s += u8 ? v / 255.0 : v;
                    }
                out[((size_t)y * w + x) * C + c] = s * inv;
            }
}

void dml_one_hot(const int *labels, size_t n, int k, double *y)
{
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < k; c++) y[i * (size_t)k + c] = (labels[i] == c ? 1.0 : 0.0) - 0.1;
}

void dml_dataset_free(dml_dataset *d)
{
    free(d->x);
    free(d->y);
    free(d->label);
    memset(d, 0, sizeof *d);
}
