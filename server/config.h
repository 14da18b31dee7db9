/* dmilab server: the configuration of `dmilab serve`, from flags and DMILAB_* environment variables. */
#ifndef DMILAB_SERVER_CONFIG_H
#define DMILAB_SERVER_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include "dmilab/limits.h"

/** Every setting of `dmilab serve`. */
typedef struct {
    char bind[256];               /**< address to listen on (IPv4 or IPv6 literal or host name) */
    int port;
    char db[PATH_MAX];            /**< SQLite database file */
    int workers;                  /**< experiments run at once */
    int threads;                  /**< threads per experiment (and per kernel request) */
    char data_root[PATH_MAX];     /**< every data path of a spec must resolve inside it */
    char web_root[PATH_MAX];      /**< directory of the dashboard's static files */
    size_t max_body;              /**< largest request body, bytes */
    char token[256];              /**< bearer token for mutating requests; "" = none */
    char worker_token[256];       /**< bearer token of the worker routes only (a cluster's workers); "" = the token */
    char executor[16];            /**< "local" (worker threads and remote workers) or "slurm" (also sbatch job arrays) */
    char slurm_partition[128], slurm_account[128], slurm_time[32], slurm_mem[32];   /**< sbatch flags; "" = Slurm's default */
    int slurm_cpus;               /**< --cpus-per-task of each array task (and its worker's --threads) */
    int slurm_max_tasks;          /**< tasks queued or running at once */
    char slurm_options[512];      /**< further sbatch options, separated by spaces */
    char slurm_server_url[512];   /**< the URL the tasks' workers reach this server at; "" = http://BIND:PORT */
    char slurm_worker[PATH_MAX];  /**< the dmilab executable the tasks run; "" = this one (a shared file system) */
    /** The limits of specs and kernel requests (exceeding one is 400 limit_exceeded, or 413 for the size of a
     *  kernel request); limits.threads is `threads`. */
    dml_limits limits;
    int lease_seconds;            /**< lease of running work: renewed every sixth of it, lapses after it */
    int max_connections;          /**< connections at once (a thread each) */
    int max_connections_per_client;   /**< connections at once from one client address */
    int read_timeout;             /**< seconds a request may take to arrive whole (headers and body) */
    int db_check_seconds;         /**< PRAGMA quick_check of the database this often while serving; 0 = at start only */
    char tile_dir[PATH_MAX];      /**< kernel tile files and the kernel cache; "" = "<db>.tiles" */
    size_t cache_bytes;           /**< bytes of finished kernels kept for reuse (LRU); 0 = none */
    int tile_rows;                /**< rows per kernel tile of a split kernel; 0 = about 2 s each by the cost model */
    int shard_seconds;            /**< a tile shard's tiles: about this many seconds of the cost model (docs/cluster.md) */
    int shard_tiles;              /**< > 0: this many tiles per tile shard instead of shard_seconds */
    size_t max_tile_body;         /**< largest body of the tile upload route, bytes */
} serve_config;

/** Fill defaults, then apply DMILAB_* environment variables, then the flags in argv[0..argc)
 *  (argv[0] is the first flag, not the program). Returns 0 to go on, 1 when --help was printed,
 *  -1 after printing an error to stderr. */
int config_parse(serve_config *c, int argc, char **argv);

/** Every setting at its default (the defaults of the configuration table), as `dmilab serve` starts without
 *  flags or environment; `dmilab run` admits specs with these limits. */
void config_defaults(serve_config *c);

/** The limits of `dmilab run` (and any command that admits specs outside the server): the rows of the table that
 *  carry a dml_limit_id (--max-memory, --max-n-train, --max-experiment-seconds, ...), from their DMILAB_*
 *  environment variables, then from "--FLAG VALUE" or "--FLAG=VALUE" in argv[0..argc), over what `c` holds
 *  (config_defaults first). Every other argument is copied, in order, into rest[0..*nrest) (rest holds argc).
 *  Returns 0, or -1 after printing "dmilab CMD: ..." to stderr for a malformed value or a flag without one. */
int config_parse_limits(serve_config *c, int argc, char **argv, char **rest, int *nrest, const char *cmd);

/** Default --max-memory: 16 GiB, or three quarters of the machine's physical memory when that is less
 *  (sysconf; 16 GiB when unknown), so that a default server refuses work that would exhaust its machine. */
size_t config_default_max_memory(void);

/** " (limit set by --FLAG=VALUE)" for the limit `id` (a dml_limit_id, from dml_error.limit) with this
 *  configuration's value, written into out[cap]; "" when `id` is not a limit of the table. */
void config_limit_hint(const serve_config *c, int id, char *out, size_t cap);

/** Print the usage of `dmilab serve` (every flag and its environment variable) to `f`. */
void config_usage(FILE *f);

#endif
