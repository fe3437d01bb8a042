/* See coro_fixture.h. */
#include "config.h"

#include <pthread.h>

#include "fcgi/coro.h"
#include "fcgi/evloop.h"
#include "coro_fixture.h"
#include "unit.h"

static pthread_mutex_t	mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	cv = PTHREAD_COND_INITIALIZER;
static int		ndone;

static void
done(struct coro *co, void *arg)
{
	(void)co;
	(void)arg;
	pthread_mutex_lock(&mu);
	ndone++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

void
coro_fixture_start(void)
{
	char err[128];

	ck_assert_int_eq(evloop_start(err, sizeof(err)), 0);
	ck_assert_int_eq(coro_resumers_start(2, done), 0);
	ndone = 0;
}

void
coro_fixture_stop(void)
{
	coro_resumers_stop();
	evloop_stop();
}

void
coro_fixture_wait(int n)
{
	pthread_mutex_lock(&mu);
	while (ndone < n)
		pthread_cond_wait(&cv, &mu);
	ndone -= n;
	pthread_mutex_unlock(&mu);
}
