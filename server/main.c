/* dmilab: the executable. Subcommands: serve, kernel, run, submit (commands.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "dmilab/blas_cpu.h"
#include "dmilab_version.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: dmilab COMMAND [OPTIONS]\n\n"
               "commands:\n"
               "  serve            run the HTTP service (dmilab serve --help)\n"
               "  kernel           NNGP/NTK kernels: JSON request on stdin, response on stdout\n"
               "  run SPEC.json    run one experiment without the server, print its results JSON\n"
               "  submit SPEC.json --server URL [--wait] [--junit FILE]\n"
               "                   submit to a running server, wait, gate CI on its checks (dmilab submit --help)\n"
               "  worker --server URL [--token T] [--once] [--threads N]\n"
               "                   claim and compute shards of a server's experiments (dmilab worker --help)\n"
               "  --version        print the version\n"
               "  --help           show this help\n");
}

int main(int argc, char **argv)
{
    /* OpenBLAS picks its kernels when it is loaded: on a CPU it does not know it runs its slowest generic ones.
     * Choose for it and start again (once: the variable is set then). OPENBLAS_CORETYPE set by the user wins. */
    const char *core = getenv("OPENBLAS_CORETYPE") ? NULL : dml_blas_better_coretype();
    if (core && setenv("OPENBLAS_CORETYPE", core, 1) == 0) {
        execv("/proc/self/exe", argv);
        unsetenv("OPENBLAS_CORETYPE");   /* exec failed: go on with the generic kernels */
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("dmilab %s (%s), OpenBLAS kernels %s\n", DMILAB_VERSION, DMILAB_COMMIT, dml_blas_corename());
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "kernel") == 0)
        return cmd_kernel(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "submit") == 0)
        return cmd_submit(argc - 2, argv + 2);
    if (strcmp(cmd, "worker") == 0)
        return cmd_worker(argc - 2, argv + 2);
    fprintf(stderr, "dmilab: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
