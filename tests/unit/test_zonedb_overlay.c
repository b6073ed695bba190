/* test_zonedb_overlay.c - zonedb's overlay versions (#19): the records in zone order with the
 * replaced names, lookups (own records, SOA, empty non-terminals), stacking and refusals. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "zonegen/zonedb.h"

#define ZONE "2.0.192.in-addr.arpa."
#define SOA1 ZONE " 3600 IN SOA ns1.example.net. hostmaster.example.net. 1 3600 900 1209600 3600"
#define SOA2 ZONE " 3600 IN SOA ns1.example.net. hostmaster.example.net. 2 3600 900 1209600 3600"
#define SOA3 ZONE " 3600 IN SOA ns1.example.net. hostmaster.example.net. 3 3600 900 1209600 3600"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rdns-ovl-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/2.0.192.in-addr.arpa.zone", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "; rdns zone " ZONE " serial 1\n" SOA1 "\n" ZONE " 3600 IN NS ns1.example.net.\n"
	           "1.2.0.192.in-addr.arpa. 3600 IN PTR one.example.com.\n"
	           "5.2.0.192.in-addr.arpa. 3600 IN PTR five.example.com.\n"
	           "10.2.0.192.in-addr.arpa. 3600 IN PTR ten.example.com.\n");
	return fclose(f);
}

/* The zone file and the folder of pins fdcache keeps beside it (dir/.pinned/): the
 * folder is left empty once every version is freed, and left over otherwise. */
static int teardown(void **state)
{
	(void)state;
	char pins[sizeof(dir) + 16];
	snprintf(pins, sizeof(pins), "%s/.pinned", dir);
	DIR *d = opendir(pins);
	int left = 0;
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[sizeof(pins) + 256];
		snprintf(p, sizeof(p), "%s/%s", pins, e->d_name);
		unlink(p);
		left++;
	}
	if (d != NULL) {
		closedir(d);
		rmdir(pins);
	}
	unlink(path);
	return rmdir(dir) == 0 && left == 0 ? 0 : -1;
}

static zg_zonedb_ovl_t ovl(const char *owner, const char *line)
{
	zg_zonedb_ovl_t o = {0};
	assert_int_equal(zg_wire_name_from_text(owner, strlen(owner), false, o.owner, &o.owner_len), RDNS_OK);
	o.line = (char *)line;
	o.line_len = line ? strlen(line) : 0;
	return o;
}

/* The records of the current version, one text line each, joined with '\n'. */
static void records(zg_zonedb_t *db, char *out, size_t len)
{
	zg_zonedb_snap_t *sn = zg_zonedb_get_text(db, ZONE);
	assert_non_null(sn);
	char *buf = malloc(ZG_ZONEDB_LINE_MAX);
	zg_wire_zrr_t rr;
	zg_zonedb_iter_t it;
	zg_zonedb_iter_init(&it, sn, buf, ZG_ZONEDB_LINE_MAX);
	size_t o = 0;
	int got;
	out[0] = 0;
	while ((got = zg_zonedb_iter_next(&it, &rr)) == 1)
		o += (size_t)snprintf(out + o, len - o, "%.*s\n", (int)it.line_len, it.line);
	assert_int_equal(got, 0);
	zg_zonedb_iter_done(&it);
	free(buf);
	zg_zonedb_put(db, sn);
}

/* lookup of name: its record count, whether it exists, the first record's type and serial/target */
static void look(zg_zonedb_t *db, const char *name, size_t want_n, bool want_exists, const char *want_target)
{
	uint8_t w[ZG_WIRE_NAME_MAX];
	size_t wl;
	assert_int_equal(zg_wire_name_from_text(name, strlen(name), false, w, &wl), RDNS_OK);
	zg_zonedb_snap_t *sn = zg_zonedb_get_text(db, ZONE);
	zg_wire_zrr_t rrs[ZG_ZONEDB_NAME_RRS];
	size_t n;
	bool exists;
	assert_int_equal(zg_zonedb_lookup(sn, w, wl, rrs, ZG_ZONEDB_NAME_RRS, &n, &exists), RDNS_OK);
	assert_int_equal(n, want_n);
	assert_int_equal(exists, want_exists);
	if (want_target) {
		char t[300];
		assert_int_equal(zg_wire_name_to_text(rrs[0].name1, rrs[0].name1_len, t, sizeof(t)), RDNS_OK);
		assert_string_equal(t, want_target);
	}
	zg_zonedb_put(db, sn);
}

static void test_overlay_versions(void **state)
{
	(void)state;
	zg_zonedb_t *db = zg_zonedb_new();
	char text[4096];
	assert_int_equal(zg_zonedb_publish(db, ZONE, path), RDNS_OK);
	/* .5 changed, .10 deleted, .7 and .200 added; given out of order */
	zg_zonedb_ovl_t v[] = {
	    ovl("200.2.0.192.in-addr.arpa.", "200.2.0.192.in-addr.arpa. 3600 IN PTR new200.example.com."),
	    ovl("10.2.0.192.in-addr.arpa.", NULL),
	    ovl("5.2.0.192.in-addr.arpa.", "5.2.0.192.in-addr.arpa. 3600 IN PTR five2.example.com."),
	    ovl("7.2.0.192.in-addr.arpa.", "7.2.0.192.in-addr.arpa. 3600 IN PTR seven.example.com."),
	};
	assert_int_equal(zg_zonedb_publish_overlay(db, ZONE, v, 4, SOA2, strlen(SOA2), NULL), RDNS_OK);
	assert_int_equal(zg_zonedb_serial(db, ZONE, NULL), 2);
	records(db, text, sizeof(text));
	assert_string_equal(text, SOA2 "\n" ZONE " 3600 IN NS ns1.example.net.\n"
	                               "1.2.0.192.in-addr.arpa. 3600 IN PTR one.example.com.\n"
	                               "5.2.0.192.in-addr.arpa. 3600 IN PTR five2.example.com.\n"
	                               "7.2.0.192.in-addr.arpa. 3600 IN PTR seven.example.com.\n"
	                               "200.2.0.192.in-addr.arpa. 3600 IN PTR new200.example.com.\n");
	look(db, "1.2.0.192.in-addr.arpa.", 1, true, "one.example.com.");
	look(db, "5.2.0.192.in-addr.arpa.", 1, true, "five2.example.com.");
	look(db, "10.2.0.192.in-addr.arpa.", 0, false, NULL);
	look(db, "11.2.0.192.in-addr.arpa.", 0, false, NULL);
	look(db, ZONE, 2, true, NULL);
	/* the apex answers this version's SOA */
	{
		uint8_t w[ZG_WIRE_NAME_MAX];
		size_t wl, n;
		bool exists;
		zg_wire_zrr_t rrs[ZG_ZONEDB_NAME_RRS];
		zg_wire_name_from_text(ZONE, strlen(ZONE), false, w, &wl);
		zg_zonedb_snap_t *sn = zg_zonedb_get_text(db, ZONE);
		assert_int_equal(zg_zonedb_lookup(sn, w, wl, rrs, ZG_ZONEDB_NAME_RRS, &n, &exists), RDNS_OK);
		assert_int_equal(rrs[0].type, ZG_TYPE_SOA);
		assert_int_equal(rrs[0].soa[0], 2);
		zg_zonedb_put(db, sn);
	}
	/* stacked: the names of the overlay before are kept unless replaced again */
	zg_zonedb_ovl_t w2[] = {ovl("7.2.0.192.in-addr.arpa.", NULL), ovl("1.2.0.192.in-addr.arpa.", NULL)};
	assert_int_equal(zg_zonedb_publish_overlay(db, ZONE, w2, 2, SOA3, strlen(SOA3), NULL), RDNS_OK);
	records(db, text, sizeof(text));
	assert_string_equal(text, SOA3 "\n" ZONE " 3600 IN NS ns1.example.net.\n"
	                               "5.2.0.192.in-addr.arpa. 3600 IN PTR five2.example.com.\n"
	                               "200.2.0.192.in-addr.arpa. 3600 IN PTR new200.example.com.\n");
	look(db, "7.2.0.192.in-addr.arpa.", 0, false, NULL);
	/* refused: a serial not newer, a record of another name, a non-PTR, a name twice */
	assert_int_equal(zg_zonedb_publish_overlay(db, ZONE, w2, 2, SOA2, strlen(SOA2), NULL), RDNS_EINVAL);
	zg_zonedb_ovl_t bad1[] = {
	    ovl("8.2.0.192.in-addr.arpa.", "9.2.0.192.in-addr.arpa. 3600 IN PTR nine.example.com.")};
	assert_int_equal(zg_zonedb_publish_overlay(db, ZONE, bad1, 1, SOA3 "0", strlen(SOA3) + 1, NULL),
	                 RDNS_EINVAL);
	zg_zonedb_ovl_t bad2[] = {
	    ovl("8.2.0.192.in-addr.arpa.", "8.2.0.192.in-addr.arpa. 3600 IN NS ns.example.com.")};
	assert_int_equal(zg_zonedb_publish_overlay(db, ZONE, bad2, 1, SOA3 "0", strlen(SOA3) + 1, NULL),
	                 RDNS_EINVAL);
	zg_zonedb_ovl_t bad3[] = {ovl("8.2.0.192.in-addr.arpa.", NULL), ovl("8.2.0.192.in-addr.arpa.", NULL)};
	assert_int_equal(zg_zonedb_publish_overlay(db, ZONE, bad3, 2, SOA3 "0", strlen(SOA3) + 1, NULL),
	                 RDNS_EINVAL);
	assert_int_equal(
	    zg_zonedb_publish_overlay(db, "3.0.192.in-addr.arpa.", w2, 2, SOA3 "0", strlen(SOA3) + 1, NULL),
	    RDNS_ENOTFOUND);
	assert_int_equal(zg_zonedb_serial(db, ZONE, NULL), 3);
	/* a plain file published again replaces the overlay */
	assert_int_equal(zg_zonedb_publish(db, ZONE, path), RDNS_OK);
	look(db, "10.2.0.192.in-addr.arpa.", 1, true, "ten.example.com.");
	zg_zonedb_free(db);
}

/* An empty non-terminal: a /16's "2.0.192" exists while a name below it does. */
static void test_overlay_empty_non_terminals(void **state)
{
	(void)state;
	char p16[160];
	snprintf(p16, sizeof(p16), "%s/0.192.in-addr.arpa.zone", dir);
	FILE *f = fopen(p16, "w");
	assert_non_null(f);
	fprintf(f, "0.192.in-addr.arpa. 3600 IN SOA ns1.example.net. h.example.net. 1 3600 900 1209600 3600\n"
	           "0.192.in-addr.arpa. 3600 IN NS ns1.example.net.\n"
	           "1.2.0.192.in-addr.arpa. 3600 IN PTR one.example.com.\n"
	           "1.3.0.192.in-addr.arpa. 3600 IN PTR three.example.com.\n"
	           "2.3.0.192.in-addr.arpa. 3600 IN PTR three2.example.com.\n");
	fclose(f);
	zg_zonedb_t *db = zg_zonedb_new();
	assert_int_equal(zg_zonedb_publish(db, "0.192.in-addr.arpa.", p16), RDNS_OK);
	const char *soa =
	    "0.192.in-addr.arpa. 3600 IN SOA ns1.example.net. h.example.net. 2 3600 900 1209600 3600";
	zg_zonedb_ovl_t v[] = {
	    ovl("1.2.0.192.in-addr.arpa.", NULL), ovl("2.3.0.192.in-addr.arpa.", NULL),
	    ovl("9.4.0.192.in-addr.arpa.", "9.4.0.192.in-addr.arpa. 3600 IN PTR four.example.com.")};
	assert_int_equal(zg_zonedb_publish_overlay(db, "0.192.in-addr.arpa.", v, 3, soa, strlen(soa), NULL),
	                 RDNS_OK);
	const char *names[] = {"2.0.192.in-addr.arpa.", "3.0.192.in-addr.arpa.", "4.0.192.in-addr.arpa.",
	                       "5.0.192.in-addr.arpa."};
	const bool want[] = {false, true, true, false}; /* last name gone; one left; a new one; never */
	zg_zonedb_snap_t *sn = zg_zonedb_get_text(db, "0.192.in-addr.arpa.");
	for (size_t i = 0; i < 4; i++) {
		uint8_t w[ZG_WIRE_NAME_MAX];
		size_t wl, n;
		bool exists;
		zg_wire_zrr_t rrs[ZG_ZONEDB_NAME_RRS];
		zg_wire_name_from_text(names[i], strlen(names[i]), false, w, &wl);
		assert_int_equal(zg_zonedb_lookup(sn, w, wl, rrs, ZG_ZONEDB_NAME_RRS, &n, &exists), RDNS_OK);
		assert_int_equal(n, 0);
		assert_int_equal(exists, want[i]);
	}
	zg_zonedb_put(db, sn);
	zg_zonedb_free(db);
	unlink(p16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_overlay_versions),
	    cmocka_unit_test(test_overlay_empty_non_terminals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
