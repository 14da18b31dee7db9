/* dmilab: the subcommands of the `dmilab` executable. Each takes the arguments after its name
 * and returns the process exit status. */
#ifndef DMILAB_SERVER_COMMANDS_H
#define DMILAB_SERVER_COMMANDS_H

/** `dmilab serve [OPTIONS]`: run the HTTP service until SIGINT or SIGTERM (exit 0), 2 on a start-up error. */
int cmd_serve(int argc, char **argv);

/** `dmilab kernel [--threads N]`: the kernel request on stdin, the response on stdout (exit 0);
 *  an error as {"error": {...}} on stderr (exit 2). */
int cmd_kernel(int argc, char **argv);

/** `dmilab run [--data-root DIR] [--threads N] SPEC.json`: run one experiment without the server and
 *  print its results JSON with a "checks" member (the outcome of the spec's checks); exit 0 when every
 *  check passes (or there is none), 1 when one fails; an error as {"error": {...}} on stderr (exit 2). */
int cmd_run(int argc, char **argv);

/** `dmilab submit SPEC.json --server URL [--token T] [--wait] [--junit FILE] [--poll S] [--timeout S]`: the CI
 *  command (submit.c). Exit 0 when every check passed, 1 when a check failed, 2 when the experiment failed or was
 *  cancelled and on any error. */
int cmd_submit(int argc, char **argv);

/** `dmilab worker --server URL [--token T] [--once] [--threads N] [--data-root DIR] [--idle-exit S]`: claim shards
 *  over the worker routes, compute them, upload their results (worker_cmd.c). Exit 0 (3 with --once when no shard
 *  was queued), 2 on a usage error. */
int cmd_worker(int argc, char **argv);

#endif
