/* fdcache.h - the files of published versions, without an open descriptor each.
 *
 * A published version reads its file (a zone file, an IXFR history) with pread for as long
 * as it lives, and the file's name may by then hold a newer version. Holding the file open
 * kept the old one readable, at one descriptor per zone: a provider's 82k zones are more
 * than an open-file limit allows. Instead the version pins its file with a private hard link
 * (<dir>/.pinned/, the same inode whatever happens to the public name) and opens it when it
 * is read; descriptors of versions nobody is reading stay open up to a limit, the least
 * recently used closed first. Where a link cannot be made the descriptor is kept for good,
 * as before. */
#ifndef RDNS_ZONEGEN_FDCACHE_H
#define RDNS_ZONEGEN_FDCACHE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct zg_fdc zg_fdc_t;
struct zg_fdc {                /* embedded in its owner; private */
	int fd;                /* -1: closed, open pin to read */
	unsigned users : 31;   /* zg_fdc_get not yet given back */
	unsigned idle : 1;     /* on the idle list (a bit: one is embedded in each zone's version) */
	char *pin;             /* NULL: fd is kept for good */
	zg_fdc_t *prev, *next; /* the idle list: fd open, no users */
};

/* The pins' folder below dir. */
#define ZG_FDC_PIN_DIR ".pinned"

/* An entry with no file (what zg_fdc_drop accepts, like an initialised one). */
#define ZG_FDC_NONE ((zg_fdc_t){.fd = -1})

/* Adopts fd, open on the file at path, and pins that file. Where a pin cannot be made (or
 * there is no memory for its name) fd is kept open for good; c owns fd either way. */
void zg_fdc_init(zg_fdc_t *c, int fd, const char *path);

/* The descriptor, opened again if it was closed, held until zg_fdc_put: -1 with errno set
 * when it cannot be opened. */
int zg_fdc_get(zg_fdc_t *c);
void zg_fdc_put(zg_fdc_t *c);

/* Closes and unpins (no users left). c may be ZG_FDC_NONE. */
void zg_fdc_drop(zg_fdc_t *c);

/* At most max descriptors of idle versions stay open (0: no limit, the default). */
void zg_fdc_set_limit(size_t max);

/* Descriptors open now (for tests and the log). */
size_t zg_fdc_open_count(void);

/* Removes the pins a previous process left in dir/.pinned (at start, before any publish). */
void zg_fdc_clean(const char *dir);

#endif
