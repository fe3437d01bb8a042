/*
 * Open streams across processes, without a write per stream: a small
 * file beside the LMDB data (live.shm), mapped shared, one slot per
 * process holding its pid and its open streams.  A process takes a free
 * slot (or one whose process is gone) with a compare-and-swap on the
 * pid; readers add up the slots of live processes.  A killed worker's
 * count stops counting as soon as its pid is gone.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fcgi/log.h"
#include "store/store_priv.h"

#define LIVE_SLOTS	1024

struct live_slot {
	int	pid;
	int	streams;
};

struct store_live {
	struct live_slot	*slots;
	int			 mine;	/* slot index, -1: none yet */
	int			 pid;	/* whose slot mine is (fork) */
};

struct store_live *
store_live_open(const char *dir)
{
	struct store_live *l;
	char path[4096];
	size_t len = LIVE_SLOTS * sizeof(struct live_slot);
	void *p;
	int fd;

	if (snprintf(path, sizeof(path), "%s/live.shm", dir) >=
	    (int)sizeof(path))
		return NULL;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		log_warn("store: %s: %s (no open-stream count)", path,
		    strerror(errno));
		return NULL;
	}
	/* ftruncate to the same size keeps what others wrote */
	if (ftruncate(fd, (off_t)len) < 0 || (p = mmap(NULL, len,
	    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		log_warn("store: %s: %s (no open-stream count)", path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	close(fd);
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		munmap(p, len);
		return NULL;
	}
	l->slots = p;
	l->mine = -1;
	return l;
}

void
store_live_close(struct store_live *l)
{
	if (l == NULL)
		return;
	munmap(l->slots, LIVE_SLOTS * sizeof(struct live_slot));
	free(l);
}

static int
alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

static struct live_slot *
my_slot(struct store_live *l)
{
	int pid = (int)getpid(), i, old;

	if (l->mine >= 0 && l->pid == pid)
		return &l->slots[l->mine];
	for (i = 0; i < LIVE_SLOTS; i++) {
		old = __atomic_load_n(&l->slots[i].pid, __ATOMIC_ACQUIRE);
		if (old == pid || (old != 0 && alive(old)))
			continue;
		if (!__atomic_compare_exchange_n(&l->slots[i].pid, &old, pid,
		    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		__atomic_store_n(&l->slots[i].streams, 0, __ATOMIC_RELEASE);
		l->mine = i;
		l->pid = pid;
		return &l->slots[i];
	}
	return NULL;
}

/*
 * Opened at the first use, not with the store: the CLI (often run as
 * root) never creates the file the service's user must then write.
 */
static struct store_live *
live_of(struct store *s)
{
	struct store_live *l, *none = NULL;

	if ((l = __atomic_load_n(&s->live, __ATOMIC_ACQUIRE)) != NULL ||
	    __atomic_load_n(&s->live_failed, __ATOMIC_ACQUIRE))
		return l;
	if ((l = store_live_open(s->dir)) == NULL) {
		__atomic_store_n(&s->live_failed, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	/* two threads at once: the first mapping wins */
	if (!__atomic_compare_exchange_n(&s->live, &none, l, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		store_live_close(l);
		l = none;
	}
	return l;
}

void
store_streams_add(struct store *s, int delta)
{
	struct store_live *l = live_of(s);
	struct live_slot *sl;

	if (l == NULL || (sl = my_slot(l)) == NULL)
		return;
	__atomic_add_fetch(&sl->streams, delta, __ATOMIC_ACQ_REL);
}

long
store_streams_open(struct store *s)
{
	struct store_live *l = live_of(s);
	struct live_slot *sl;
	long n = 0;
	int i, v;

	if (l == NULL)
		return 0;
	for (i = 0; i < LIVE_SLOTS; i++) {
		sl = &l->slots[i];
		if ((v = __atomic_load_n(&sl->streams, __ATOMIC_ACQUIRE)) > 0 &&
		    alive(__atomic_load_n(&sl->pid, __ATOMIC_ACQUIRE)))
			n += v;
	}
	return n;
}
