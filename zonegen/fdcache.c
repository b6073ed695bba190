/* fdcache.c - published versions' files opened on demand from private hard links, with a
 * bounded set of idle descriptors (see fdcache.h). */
#include "zonegen/fdcache.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static zg_fdc_t *head, *tail; /* idle: most recently used first */
static size_t n_open, limit;
static atomic_ulong seq;
static atomic_bool warned; /* a pin could not be made */

/* The first pin that cannot be made is worth a warning: such files each keep a descriptor. */
static void no_pin(const char *path, const char *what, int err)
{
	if (!atomic_exchange(&warned, true))
		log_warn("zonegen: cannot pin %s (%s: %s): it stays open, one descriptor per zone version "
		         "(like it, later ones are logged at debug)",
		         path, what, strerror(err));
	else
		log_debug("zonegen: cannot pin %s (%s: %s): the file stays open", path, what, strerror(err));
}

static void unlist(zg_fdc_t *c)
{
	if (!c->idle)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		tail = c->prev;
	c->prev = c->next = NULL;
	c->idle = false;
}

static void list_front(zg_fdc_t *c)
{
	c->prev = NULL;
	c->next = head;
	if (head)
		head->prev = c;
	head = c;
	if (!tail)
		tail = c;
	c->idle = true;
}

/* Under the lock: close idle descriptors, oldest first, until at most keep are open. */
static void shed(size_t keep)
{
	while (n_open > keep && tail != NULL) {
		zg_fdc_t *c = tail;
		unlist(c);
		close(c->fd);
		c->fd = -1;
		n_open--;
	}
}

void zg_fdc_init(zg_fdc_t *c, int fd, const char *path)
{
	*c = (zg_fdc_t){.fd = fd};
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 1;
	const char *dir = slash ? path : ".";
	const char *base = slash ? slash + 1 : path;
	/* the name is kept in an allocation of its own size: one per zone version (#17) */
	char name[PATH_MAX + 64];
	char *pin = NULL;
	int n = snprintf(name, sizeof(name), "%.*s/" ZG_FDC_PIN_DIR, (int)dl, dir);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		no_pin(path, "name too long", ENAMETOOLONG);
	} else if (mkdir(name, 0700) != 0 && errno != EEXIST) {
		no_pin(path, name, errno);
	} else {
		int m = snprintf(name + n, sizeof(name) - (size_t)n, "/%s.%ld.%lu", base, (long)getpid(),
		                 atomic_fetch_add(&seq, 1));
		/* the inode fd has open, whatever the name path holds by now */
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (m < 0 || (size_t)m >= sizeof(name) - (size_t)n)
			no_pin(path, "name too long", ENAMETOOLONG);
		else if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) != 0)
			no_pin(path, "link", errno);
		else if ((pin = strdup(name)) == NULL) {
			no_pin(path, "no memory", ENOMEM);
			(void)unlink(name);
		}
	}
	c->pin = pin;
	pthread_mutex_lock(&lock);
	n_open++;
	if (c->pin != NULL) {
		list_front(c);
		if (limit)
			shed(limit);
	}
	pthread_mutex_unlock(&lock);
}

int zg_fdc_get(zg_fdc_t *c)
{
	pthread_mutex_lock(&lock);
	if (c->fd < 0) {
		if (limit)
			shed(limit > 0 ? limit - 1 : 0);
		int fd = open(c->pin, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			shed(0); /* every idle one: the process is out of descriptors */
			fd = open(c->pin, O_RDONLY | O_CLOEXEC);
		}
		if (fd < 0) {
			int e = errno;
			pthread_mutex_unlock(&lock);
			errno = e;
			return -1;
		}
		c->fd = fd;
		n_open++;
	}
	unlist(c);
	c->users++;
	int fd = c->fd;
	pthread_mutex_unlock(&lock);
	return fd;
}

void zg_fdc_put(zg_fdc_t *c)
{
	pthread_mutex_lock(&lock);
	if (--c->users == 0 && c->pin != NULL) {
		list_front(c);
		if (limit)
			shed(limit);
	}
	pthread_mutex_unlock(&lock);
}

void zg_fdc_drop(zg_fdc_t *c)
{
	pthread_mutex_lock(&lock);
	assert(c->users == 0);
	unlist(c);
	if (c->fd >= 0) {
		close(c->fd);
		n_open--;
	}
	c->fd = -1;
	pthread_mutex_unlock(&lock);
	if (c->pin != NULL)
		(void)unlink(c->pin);
	free(c->pin);
	c->pin = NULL;
}

void zg_fdc_set_limit(size_t max)
{
	pthread_mutex_lock(&lock);
	limit = max;
	if (limit)
		shed(limit);
	pthread_mutex_unlock(&lock);
}

size_t zg_fdc_open_count(void)
{
	pthread_mutex_lock(&lock);
	size_t n = n_open;
	pthread_mutex_unlock(&lock);
	return n;
}

/* Whether the pin name "<file>.<pid>.<seq>" is of a process that is gone (or of this
 * one: a restart that got the same pid; at start nothing of ours is pinned yet). */
static bool pin_orphaned(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (dot == NULL || dot == name)
		return true;
	const char *p = dot - 1;
	while (p > name && *p != '.')
		p--;
	char *end;
	long pid = strtol(p + 1, &end, 10);
	if (*p != '.' || end != dot || pid <= 0)
		return true; /* not a name of ours: nobody's */
	if (pid == (long)getpid())
		return true;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void zg_fdc_clean(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/" ZG_FDC_PIN_DIR, dir);
	DIR *d = opendir(path);
	if (d == NULL)
		return;
	struct dirent *e;
	size_t n = 0;
	/* another process on the same folder (rdns-zonegen --once beside the daemon) keeps its own */
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && pin_orphaned(e->d_name) && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	closedir(d);
	if (n)
		log_info("zonegen: %zu pinned versions left by an earlier process removed from %s", n, path);
}
