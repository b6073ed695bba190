/* fuzz_dnssrv.c - libFuzzer target: arbitrary bytes as a UDP query, a TCP query and a TCP byte stream to the
 * hidden primary. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/err.h"
#include "core/log.h"
#include "zonegen/dnssrv.h"
#include "zonegen/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key the seed corpus is signed with ("fuzz-key.", secret "fuzzfuzzfuzzfuzz"). */
static const zg_tsig_key_t KEY = {.name = "fuzz-key.", .secret = "fuzzfuzzfuzzfuzz", .secret_len = 16};

static zg_dnssrv_t *srv;
static struct sockaddr_in src4;
static struct sockaddr_in6 src6;

/* Publish a small zone file (two messages' worth would slow every input,
 * so a few hundred records) and unlink it: the server keeps the fd. */
static void publish(const char *zone, int n, int v6)
{
	char path[] = "/tmp/fuzz_dnssrv.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	FILE *f = fdopen(fd, "w");
	fprintf(f, "; rdns zone %s serial 2026112601\n", zone);
	fprintf(f,
	        "%s 3600 IN SOA ns1.example.net. hostmaster.example.net. 2026112601 3600 900 1209600 3600\n",
	        zone);
	fprintf(f, "%s 3600 IN NS ns1.example.net.\n", zone);
	for (int i = 0; i < n; i++) {
		if (v6)
			fprintf(f,
			        "%x.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.%s 3600 IN PTR "
			        "h%d.example.com.\n",
			        i % 16, zone, i);
		else
			fprintf(f, "%d.%s 3600 IN PTR host-%d.example.com.\n", i, zone, i);
	}
	fclose(f);
	if (zg_dnssrv_publish(srv, zone, path) != RDNS_OK)
		abort();
	unlink(path);
}

/* Log lines are formatted (that code runs too) but not written: a line per
 * bad TSIG would drown the fuzzer's own output. */
static void quiet(int level, const char *msg, void *arg)
{
	(void)level;
	(void)msg;
	(void)arg;
}

static void init(void)
{
	int err;
	log_set_sink(quiet, NULL);
	zg_dnssrv_conf_t c = {.transfer_allow = "127.0.0.0/8 ::1", .keys = &KEY, .n_keys = 1};
	srv = zg_dnssrv_new(&c, &err);
	if (srv == NULL)
		abort();
	publish("2.0.192.in-addr.arpa.", 300, 0);
	publish("8.b.d.0.1.0.0.2.ip6.arpa.", 16, 1);
	src4.sin_family = AF_INET;
	src4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	src6.sin6_family = AF_INET6;
	src6.sin6_addr = in6addr_loopback;
}

/* Every response must be a well-formed message: a header with QR, sections
 * that parse to the last byte, at most 64 KiB (512 over UDP without EDNS is
 * not checked here: the query may carry OPT). */
static int check_emit(void *arg, const uint8_t *msg, size_t len)
{
	int *count = arg;
	zg_wire_hdr_t h;
	(*count)++;
	if (len > ZG_WIRE_MSG_MAX || zg_wire_hdr_parse(msg, len, &h) != RDNS_OK || !(h.flags & ZG_WIRE_QR))
		abort();
	size_t p = ZG_WIRE_HDR_LEN;
	for (unsigned i = 0; i < h.count[0]; i++) {
		uint8_t n[ZG_WIRE_NAME_MAX];
		size_t nl;
		if (zg_wire_name_parse(msg, len, &p, n, &nl) != RDNS_OK || len - p < 4)
			abort();
		p += 4;
	}
	unsigned total = (unsigned)h.count[1] + h.count[2] + h.count[3];
	for (unsigned i = 0; i < total; i++) {
		zg_wire_rr_t rr;
		if (zg_wire_rr_parse(msg, len, &p, &rr) != RDNS_OK)
			abort();
	}
	if (p != len)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (srv == NULL)
		init();
	int n = 0;
	int rc = zg_dnssrv_handle(srv, data, size, (struct sockaddr *)&src4, ZG_DNSSRV_UDP, check_emit, &n);
	/* UDP: exactly one answer, or none when dropped. */
	if ((rc == RDNS_OK && n != 1) || (rc == RDNS_EDNS && n != 0))
		abort();
	n = 0;
	zg_dnssrv_handle(srv, data, size, (struct sockaddr *)&src6, ZG_DNSSRV_TCP, check_emit, &n);

	/* The same bytes as a TCP stream: 2-byte length-prefixed queries, one
	 * after another, as a connection thread would hand them over. */
	size_t p = 0;
	for (int i = 0; i < 8 && size - p >= 2; i++) {
		size_t len = (size_t)data[p] << 8 | data[p + 1];
		p += 2;
		if (len > size - p)
			break;
		n = 0;
		if (zg_dnssrv_handle(srv, data + p, len, (struct sockaddr *)&src4, ZG_DNSSRV_TCP, check_emit,
		                     &n) != RDNS_OK)
			break; /* the connection would be closed */
		p += len;
	}
	return 0;
}
