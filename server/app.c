/* dmilab server: the change notifier of the shared state. See app.h. */
#include "app.h"

#include <errno.h>

#include "ticker.h"

void app_events_init(app *a)
{
    pthread_mutex_init(&a->ev_mu, NULL);
    cond_init_monotonic(&a->ev_cv);
    a->ev_gen = 0;
}

void app_changed(app *a)
{
    pthread_mutex_lock(&a->ev_mu);
    a->ev_gen++;
    pthread_cond_broadcast(&a->ev_cv);
    pthread_mutex_unlock(&a->ev_mu);
}

unsigned long app_generation(app *a)
{
    pthread_mutex_lock(&a->ev_mu);
    unsigned long g = a->ev_gen;
    pthread_mutex_unlock(&a->ev_mu);
    return g;
}

int app_wait_change(app *a, unsigned long seen, const struct timespec *deadline)
{
    int changed = 1;
    pthread_mutex_lock(&a->ev_mu);
    while (a->ev_gen == seen && !atomic_load(&a->stopping)) {
        if (pthread_cond_timedwait(&a->ev_cv, &a->ev_mu, deadline) == ETIMEDOUT) {
            changed = a->ev_gen != seen;
            break;
        }
    }
    pthread_mutex_unlock(&a->ev_mu);
    return changed;
}
