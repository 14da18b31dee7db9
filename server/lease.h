/* dmilab server: who owns running work. The owner id of this process, whether the owner of a lease is gone, and the
 * lease keeper: a thread that renews the leases of the experiments this process runs and re-queues running work whose
 * owner is gone (the lease protocol of store.h). */
#ifndef DMILAB_SERVER_LEASE_H
#define DMILAB_SERVER_LEASE_H

#include <stdatomic.h>
#include <stdint.h>
#include "store.h"
#include "util.h"

#define LEASE_OWNER_MAX 256

/** Compute the owner id of this process once (before any thread uses it): "ROLE@HOST:PID" followed by what tells
 *  this process from a later one with the same PID: "#start=TICKS,boot=BOOT_ID,pidns=INODE" (Linux /proc). */
void lease_owner_init(const char *role);

/** The owner id of this process (lease_owner_init first). */
const char *lease_owner_self(void);

/** Whether `owner` names a process of this machine (same hostname, boot and PID namespace) that no longer runs (or a
 *  later process that reuses its PID): 1 gone, 0 alive or unknown (another machine: only its lease's expiry tells). */
int lease_owner_gone(const char *owner);

/** One experiment this process runs; the keeper renews its lease until it is removed. */
typedef struct lease_claim {
    char id[UTIL_ID_LEN + 8];
    atomic_int lost;        /**< set by the keeper: the lease is lost (another owner or none): write nothing more */
    atomic_int cancel;      /**< set by the keeper: a cancel was requested */
    atomic_int abandoned;   /**< set by the worker: stop renewing, let the lease lapse (writes keep failing) */
    struct lease_claim *next;
} lease_claim;

typedef struct lease_keeper lease_keeper;

/** Start the keeper of `owner`'s leases on `st`: every lease_seconds / 6 it renews each claim (to now + lease_seconds)
 *  and re-queues running experiments whose lease lapsed or whose owner is gone (store_expire_leases), then calls
 *  `on_requeue(ctx)` (may be NULL) so that idle workers claim them at once. NULL on error. */
lease_keeper *lease_keeper_start(store *st, const char *owner, double lease_seconds, void (*on_requeue)(void *ctx),
                                 void *ctx);

/** The lease duration in milliseconds. */
int64_t lease_keeper_ms(const lease_keeper *k);

/** Renew `c` from now on (it was just claimed with a fresh lease). */
void lease_keeper_add(lease_keeper *k, lease_claim *c);

/** Stop renewing `c` (its experiment ended, was released or lost). */
void lease_keeper_remove(lease_keeper *k, lease_claim *c);

/** Give back every claim still held (store_release), for a process that exits while workers still run. Returns the
 *  number released. */
int lease_keeper_release_all(lease_keeper *k);

/** Stop the thread and free the keeper (no claim may remain). */
void lease_keeper_stop(lease_keeper *k);

#endif
