/* test_fdcache.c - published versions' files without a descriptor each (fdcache.c): pins,
 * descriptors opened on demand, the idle limit (oldest first, never one in use), drop, clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zonegen/fdcache.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rdns-fdc-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	zg_fdc_set_limit(0);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to dir/name the way zonegen replaces files (temp, rename). */
static void put_file(const char *name, const char *text)
{
	char tmp[128], path[128];
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* An entry over dir/name, as a published version opens its file. */
static void open_entry(zg_fdc_t *c, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	zg_fdc_init(c, fd, path);
	assert_non_null(c->pin); /* pinned: /proc and hard links work here */
}

/* What the entry's file holds, read through zg_fdc_get/put. */
static void read_entry(zg_fdc_t *c, char *buf, size_t len)
{
	int fd = zg_fdc_get(c);
	assert_true(fd >= 0);
	ssize_t n = pread(fd, buf, len - 1, 0);
	assert_true(n >= 0);
	buf[n] = 0;
	zg_fdc_put(c);
}

static size_t pins_left(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/" ZG_FDC_PIN_DIR, dir);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void test_get_put(void **state)
{
	(void)state;
	size_t base = zg_fdc_open_count();
	zg_fdc_t c;
	put_file("a.zone", "one\n");
	open_entry(&c, "a.zone");
	assert_int_equal(zg_fdc_open_count(), base + 1);
	assert_int_equal(pins_left(), 1);
	char buf[64];
	read_entry(&c, buf, sizeof(buf));
	assert_string_equal(buf, "one\n");
	/* two readers at once share the one descriptor */
	int f1 = zg_fdc_get(&c), f2 = zg_fdc_get(&c);
	assert_true(f1 >= 0);
	assert_int_equal(f1, f2);
	assert_int_equal(c.users, 2);
	zg_fdc_put(&c);
	zg_fdc_put(&c);
	assert_int_equal(c.users, 0);
	zg_fdc_drop(&c);
	assert_int_equal(zg_fdc_open_count(), base);
	zg_fdc_t none = ZG_FDC_NONE;
	zg_fdc_drop(&none); /* nothing to drop: fine */
}

static void test_limit_oldest_first_never_in_use(void **state)
{
	(void)state;
	size_t base = zg_fdc_open_count();
	zg_fdc_t c[4];
	int fd[4];
	char name[32];
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "%d.zone", i);
		put_file(name, name);
		open_entry(&c[i], name);
		fd[i] = c[i].fd;
	}
	assert_int_equal(zg_fdc_open_count(), base + 4);
	/* 2 was read last: 0, 1, 3 are the oldest idle in that order */
	char buf[64];
	read_entry(&c[2], buf, sizeof(buf));
	assert_string_equal(buf, "2.zone");
	/* 0 is in use: the limit closes the oldest idle ones, never it */
	assert_true(zg_fdc_get(&c[0]) == fd[0]);
	zg_fdc_set_limit(2);
	assert_int_equal(zg_fdc_open_count(), base + 2);
	assert_int_equal(c[0].fd, fd[0]);
	assert_true(fd_is_open(fd[0]));
	assert_int_equal(c[1].fd, -1);
	assert_int_equal(c[3].fd, -1);
	assert_int_equal(c[2].fd, fd[2]);
	/* still in use under a limit of 1: nothing to close but 2, and 0 stays */
	zg_fdc_set_limit(1);
	assert_int_equal(c[2].fd, -1);
	assert_int_equal(c[0].fd, fd[0]);
	assert_true(fd_is_open(fd[0]));
	assert_true(pread(fd[0], buf, sizeof(buf), 0) == 6);
	zg_fdc_put(&c[0]);
	/* a closed one opens again on get, and reads its file */
	read_entry(&c[3], buf, sizeof(buf));
	assert_string_equal(buf, "3.zone");
	assert_true(zg_fdc_open_count() <= base + 1);
	for (int i = 0; i < 4; i++)
		zg_fdc_drop(&c[i]);
	assert_int_equal(zg_fdc_open_count(), base);
	assert_int_equal(pins_left(), 0);
}

static void test_replaced_file_reads_its_own(void **state)
{
	(void)state;
	zg_fdc_t old;
	put_file("z.zone", "serial 1\n");
	open_entry(&old, "z.zone");
	put_file("z.zone", "serial 2, a newer version\n"); /* renamed over the public name */
	zg_fdc_set_limit(1);
	zg_fdc_t cur;
	open_entry(&cur, "z.zone"); /* sheds old's descriptor */
	assert_int_equal(old.fd, -1);
	char buf[64];
	read_entry(&old, buf, sizeof(buf)); /* opened again: from its pin, not the name */
	assert_string_equal(buf, "serial 1\n");
	read_entry(&cur, buf, sizeof(buf));
	assert_string_equal(buf, "serial 2, a newer version\n");
	assert_int_equal(pins_left(), 2);
	zg_fdc_drop(&old);
	assert_int_equal(pins_left(), 1); /* drop removes the pin */
	zg_fdc_drop(&cur);
	assert_int_equal(pins_left(), 0);
}

static void test_unpinnable_kept_open(void **state)
{
	(void)state;
	/* the file is gone before its entry is made (nlink 0): nothing to link, so kept open */
	char path[128];
	put_file("gone.zone", "gone\n");
	snprintf(path, sizeof(path), "%s/gone.zone", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	zg_fdc_t c;
	zg_fdc_init(&c, fd, path);
	assert_null(c.pin);
	zg_fdc_set_limit(1);
	zg_fdc_t other;
	put_file("b.zone", "b\n");
	open_entry(&other, "b.zone");
	zg_fdc_set_limit(1);
	assert_int_equal(c.fd, fd); /* never shed: it could not be opened again */
	char buf[16];
	read_entry(&c, buf, sizeof(buf));
	assert_string_equal(buf, "gone\n");
	zg_fdc_drop(&other);
	zg_fdc_drop(&c);
	assert_false(fd_is_open(fd));
}

static void test_clean(void **state)
{
	(void)state;
	/* a pid that is gone: a child that has exited */
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	char pins[128], p[256];
	snprintf(pins, sizeof(pins), "%s/" ZG_FDC_PIN_DIR, dir);
	assert_int_equal(mkdir(pins, 0700), 0);
	const char *names[] = {"a.zone", "a.zone.ixfr", NULL}; /* NULL: a name not of ours */
	for (size_t i = 0; i < 3; i++) {
		if (names[i] != NULL)
			snprintf(p, sizeof(p), "%s/%s.%ld.%zu", pins, names[i], (long)child, i);
		else
			snprintf(p, sizeof(p), "%s/junk", pins);
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fclose(f);
	}
	/* a live process's pin (another rdns-zonegen on the folder) stays */
	snprintf(p, sizeof(p), "%s/b.zone.%ld.0", pins, (long)getppid());
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(pins_left(), 4);
	zg_fdc_clean(dir);
	assert_int_equal(pins_left(), 1);
	assert_int_equal(access(p, F_OK), 0);
	unlink(p);
	zg_fdc_clean("/nonexistent-rdns-dir"); /* no folder: nothing to do */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_put, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit_oldest_first_never_in_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_file_reads_its_own, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unpinnable_kept_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clean, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
