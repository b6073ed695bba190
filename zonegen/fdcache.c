/* fdcache.c - published versions' files opened on demand from private hard links, with a
 * bounded set of idle descriptors (see fdcache.h). */
#include "zonegen/fdcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

int zg_fdc_init(zg_fdc_t *c, int fd, const char *path)
{
	*c = (zg_fdc_t){.fd = fd};
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 1;
	const char *dir = slash ? path : ".";
	const char *base = slash ? slash + 1 : path;
	size_t len = dl + sizeof("/" ZG_FDC_PIN_DIR "/") + strlen(base) + 48;
	char *pin = malloc(len);
	if (pin == NULL)
		return RDNS_ENOMEM;
	snprintf(pin, len, "%.*s/" ZG_FDC_PIN_DIR, (int)dl, dir);
	if (mkdir(pin, 0700) != 0 && errno != EEXIST) {
		log_debug("zonegen: cannot make %s (%s): the file stays open", pin, strerror(errno));
		free(pin);
		pin = NULL;
	} else {
		size_t pl = strlen(pin);
		snprintf(pin + pl, len - pl, "/%s.%ld.%lu", base, (long)getpid(), atomic_fetch_add(&seq, 1));
		/* the inode fd has open, whatever the name path holds by now */
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, pin, AT_SYMLINK_FOLLOW) != 0) {
			log_debug("zonegen: cannot pin %s (%s): the file stays open", path, strerror(errno));
			free(pin);
			pin = NULL;
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
	return RDNS_OK;
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

void zg_fdc_clean(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/" ZG_FDC_PIN_DIR, dir);
	DIR *d = opendir(path);
	if (d == NULL)
		return;
	struct dirent *e;
	size_t n = 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	closedir(d);
	if (n)
		log_info("zonegen: %zu pinned versions left by an earlier process removed from %s", n, path);
}
