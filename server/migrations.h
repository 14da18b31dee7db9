/* dmilab server: the SQL migrations (migrations/NNNN_name.sql), embedded into the binary at build time
 * by embed_sql.c, so the installed server does not depend on its working directory. */
#ifndef DMILAB_SERVER_MIGRATIONS_H
#define DMILAB_SERVER_MIGRATIONS_H

/** One migration: its version (the file name without ".sql", e.g. "0001_init") and its SQL text. */
typedef struct {
    const char *version;
    const char *sql;
} migration;

/** Every migration, sorted by version (the order they are applied in). */
extern const migration migrations[];
/** Number of entries in `migrations`. */
extern const int migrations_count;

#endif
