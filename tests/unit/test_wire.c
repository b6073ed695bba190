/* test_wire.c - unit tests for zonegen/wire: names, compression, message assembly, zone-file lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "core/err.h"
#include "zonegen/wire.h"

/* Wire name from a compact notation: "3www7example3com0" is not handy, so
 * tests write names as text and convert with a known-good helper. */
static size_t wname(const char *text, uint8_t *out)
{
	size_t n;
	assert_int_equal(zg_wire_name_from_text(text, strlen(text), false, out, &n), RDNS_OK);
	return n;
}

/* ---- text to wire ---- */

typedef struct {
	const char *text;
	bool require_dot;
	int rc;
	const char *wire; /* expected bytes, as a string with explicit \x escapes; NULL to skip */
	size_t wire_len;
} from_text_case_t;

#define W(s) s, sizeof(s) - 1

static void test_name_from_text_table(void **state)
{
	char l63[64], l64[65], n255[300], n256[300];
	memset(l63, 'a', 63);
	l63[63] = 0;
	memset(l64, 'a', 64);
	l64[64] = 0;
	/* 3 labels of 63 plus one of 61: 3*64 + 62 + root = 255 octets. */
	snprintf(n255, sizeof(n255), "%s.%s.%s.%.61s.", l63, l63, l63, l63);
	snprintf(n256, sizeof(n256), "%s.%s.%s.%.62s.", l63, l63, l63, l63);
	char l63dot[70];
	snprintf(l63dot, sizeof(l63dot), "%s.", l63);
	char l64dot[70];
	snprintf(l64dot, sizeof(l64dot), "%s.", l64);

	const from_text_case_t cases[] = {
	    {".", true, RDNS_OK, W("\x00")},
	    {"com.", true, RDNS_OK,
	     W("\x03"
	       "com\x00")},
	    {"example.com.", true, RDNS_OK,
	     W("\x07"
	       "example\x03"
	       "com\x00")},
	    {"Example.COM", false, RDNS_OK,
	     W("\x07"
	       "Example\x03"
	       "COM\x00")},
	    {"example.com", true, RDNS_EINVAL, NULL, 0},
	    {"a..b.", true, RDNS_EINVAL, NULL, 0},
	    {".a.", true, RDNS_EINVAL, NULL, 0},
	    {"a.b..", true, RDNS_EINVAL, NULL, 0},
	    {"", false, RDNS_EINVAL, NULL, 0},
	    {"..", false, RDNS_EINVAL, NULL, 0},
	    {l63dot, true, RDNS_OK, NULL, 0},
	    {l64dot, true, RDNS_EINVAL, NULL, 0},
	    {n255, true, RDNS_OK, NULL, 0},
	    {n256, true, RDNS_EINVAL, NULL, 0},
	    /* RFC 1035 §5.1 escapes */
	    {"a\\.b.c.", true, RDNS_OK,
	     W("\x03"
	       "a.b\x01"
	       "c\x00")},
	    {"\\065bc.", true, RDNS_OK,
	     W("\x03"
	       "Abc\x00")},
	    {"a\\032b.", true, RDNS_OK,
	     W("\x03"
	       "a b\x00")},
	    {"\\256.", true, RDNS_EINVAL, NULL, 0},
	    {"\\06.", true, RDNS_EINVAL, NULL, 0},
	    {"a\\", false, RDNS_EINVAL, NULL, 0},
	    {"a\\.", true, RDNS_EINVAL, NULL, 0}, /* the dot is escaped: not absolute */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[ZG_WIRE_NAME_MAX];
		size_t n = 0;
		int rc = zg_wire_name_from_text(cases[i].text, strlen(cases[i].text), cases[i].require_dot,
		                                out, &n);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].text, rc, cases[i].rc);
		if (rc == RDNS_OK && cases[i].wire != NULL) {
			assert_int_equal(n, cases[i].wire_len);
			assert_memory_equal(out, cases[i].wire, n);
		}
		if (rc == RDNS_OK)
			assert_true(n <= ZG_WIRE_NAME_MAX);
	}
	uint8_t out[ZG_WIRE_NAME_MAX];
	size_t n;
	assert_int_equal(zg_wire_name_from_text(n255, strlen(n255), true, out, &n), RDNS_OK);
	assert_int_equal(n, 255);
}

static void test_name_to_text_roundtrip(void **state)
{
	const char *names[] = {".",           "example.com.",         "a\\.b.c.", "a\\032b.", "\\255x.",
	                       "a\\;b.\\\\.", "2.0.192.in-addr.arpa."};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t w[ZG_WIRE_NAME_MAX], w2[ZG_WIRE_NAME_MAX];
		size_t n, n2;
		char buf[1100];
		assert_int_equal(zg_wire_name_from_text(names[i], strlen(names[i]), true, w, &n), RDNS_OK);
		assert_int_equal(zg_wire_name_to_text(w, n, buf, sizeof(buf)), RDNS_OK);
		assert_int_equal(zg_wire_name_from_text(buf, strlen(buf), true, w2, &n2), RDNS_OK);
		assert_int_equal(n, n2);
		assert_memory_equal(w, w2, n);
	}
	uint8_t w[ZG_WIRE_NAME_MAX];
	size_t n = wname("example.com.", w);
	char small[5];
	assert_int_equal(zg_wire_name_to_text(w, n, small, sizeof(small)), RDNS_ESPACE);
	char buf[64];
	assert_int_equal(zg_wire_name_to_text(w, n, buf, sizeof(buf)), RDNS_OK);
	assert_string_equal(buf, "example.com.");
	/* A wire name without its root label is malformed. */
	assert_int_equal(zg_wire_name_to_text(w, n - 1, buf, sizeof(buf)), RDNS_EINVAL);
}

/* ---- parsing names in messages ---- */

typedef struct {
	const char *what;
	const uint8_t *msg;
	size_t len;
	size_t pos;
	int rc;
	const char *text; /* expected name */
	size_t end;       /* expected *pos after */
} parse_case_t;

static void test_name_parse_table(void **state)
{
	/* offset 0: "example.com." (13 bytes); offset 13: "www" + ptr(0) */
	static const uint8_t ok_ptr[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e',  3, 'c',
	                                 'o', 'm', 0,   3,   'w', 'w', 'w', 0xc0, 0};
	static const uint8_t self_ptr[] = {0xc0, 0};
	static const uint8_t fwd_ptr[] = {0xc0, 2, 1, 'a', 0};
	/* "a" + ptr to 0: the pointer points into the name's own segment. */
	static const uint8_t own_seg[] = {1, 'a', 0xc0, 0};
	/* offset 0: "b" + ptr(4); offset 4: "c" + ptr(0): a loop of two names */
	static const uint8_t loop2[] = {1, 'b', 0xc0, 4, 1, 'c', 0xc0, 0};
	/* offset 0: "x."; offset 3: "y" + ptr(2), the root octet inside the first name */
	static const uint8_t back_mid[] = {1, 'x', 0, 1, 'y', 0xc0, 2};
	/* the same, but ptr(1) lands on 'x' (120) read as a label length: runs off */
	static const uint8_t back_bad[] = {1, 'x', 0, 1, 'y', 0xc0, 1};
	static const uint8_t trunc_label[] = {5, 'a', 'b'};
	static const uint8_t trunc_ptr[] = {1, 'a', 0xc0};
	static const uint8_t no_root[] = {1, 'a'};
	static const uint8_t ext_label[] = {0x41, 'a', 0};
	static const uint8_t rsv_label[] = {0x81, 'a', 0};
	static const uint8_t root_only[] = {0};

	/* A chain of segments, each a 63-octet label: segment 0 ends in the
	 * root, segment i in a pointer to segment i-1. From segment k the name
	 * is (k + 1) * 64 + 1 octets: 193 for k = 2, 257 (too long) for k = 3. */
	static uint8_t too_long[65 + 4 * 66];
	size_t starts[5];
	size_t p = 0;
	for (int i = 0; i < 5; i++) {
		starts[i] = p;
		too_long[p++] = 63;
		memset(too_long + p, 'a' + i, 63);
		p += 63;
		if (i == 0) {
			too_long[p++] = 0;
		} else {
			too_long[p++] = (uint8_t)(0xc0 | (starts[i - 1] >> 8));
			too_long[p++] = (uint8_t)starts[i - 1];
		}
	}
	assert_int_equal(p, sizeof(too_long));

	const parse_case_t cases[] = {
	    {"plain", ok_ptr, sizeof(ok_ptr), 0, RDNS_OK, "example.com.", 13},
	    {"pointer", ok_ptr, sizeof(ok_ptr), 13, RDNS_OK, "www.example.com.", 19},
	    {"root", root_only, 1, 0, RDNS_OK, ".", 1},
	    {"self pointer", self_ptr, sizeof(self_ptr), 0, RDNS_EINVAL, NULL, 0},
	    {"forward pointer", fwd_ptr, sizeof(fwd_ptr), 0, RDNS_EINVAL, NULL, 0},
	    {"pointer into own segment", own_seg, sizeof(own_seg), 0, RDNS_EINVAL, NULL, 0},
	    {"two-name loop", loop2, sizeof(loop2), 4, RDNS_EINVAL, NULL, 0},
	    {"back into middle", back_mid, sizeof(back_mid), 3, RDNS_OK, "y.", 7},
	    {"back onto a non-label", back_bad, sizeof(back_bad), 3, RDNS_EINVAL, NULL, 0},
	    {"truncated label", trunc_label, sizeof(trunc_label), 0, RDNS_EINVAL, NULL, 0},
	    {"truncated pointer", trunc_ptr, sizeof(trunc_ptr), 0, RDNS_EINVAL, NULL, 0},
	    {"no root", no_root, sizeof(no_root), 0, RDNS_EINVAL, NULL, 0},
	    {"0x40 label", ext_label, sizeof(ext_label), 0, RDNS_EINVAL, NULL, 0},
	    {"0x80 label", rsv_label, sizeof(rsv_label), 0, RDNS_EINVAL, NULL, 0},
	    {"over 255 octets", too_long, sizeof(too_long), starts[4], RDNS_EINVAL, NULL, 0},
	    {"start past end", ok_ptr, sizeof(ok_ptr), sizeof(ok_ptr), RDNS_EINVAL, NULL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[ZG_WIRE_NAME_MAX];
		size_t n = 0, pos = cases[i].pos;
		int rc = zg_wire_name_parse(cases[i].msg, cases[i].len, &pos, out, &n);
		if (rc != cases[i].rc)
			fail_msg("case %s: rc %d, want %d", cases[i].what, rc, cases[i].rc);
		if (rc == RDNS_OK) {
			char buf[1100];
			assert_int_equal(zg_wire_name_to_text(out, n, buf, sizeof(buf)), RDNS_OK);
			assert_string_equal(buf, cases[i].text);
			assert_int_equal(pos, cases[i].end);
		} else {
			assert_int_equal(pos, cases[i].pos); /* untouched on error */
		}
	}
	/* Segment 2: three labels, 193 octets, fine; segment 3: 257, too long. */
	uint8_t out[ZG_WIRE_NAME_MAX];
	size_t n, pos = starts[2];
	assert_int_equal(zg_wire_name_parse(too_long, sizeof(too_long), &pos, out, &n), RDNS_OK);
	assert_int_equal(n, 193);
	pos = starts[3];
	assert_int_equal(zg_wire_name_parse(too_long, sizeof(too_long), &pos, out, &n), RDNS_EINVAL);
}

static void test_name_equal_lower(void **state)
{
	uint8_t a[ZG_WIRE_NAME_MAX], b[ZG_WIRE_NAME_MAX];
	size_t an = wname("Mail.Example.COM.", a);
	size_t bn = wname("mail.example.com.", b);
	assert_true(zg_wire_name_equal(a, an, b, bn));
	bn = wname("mail.example.co.", b);
	assert_false(zg_wire_name_equal(a, an, b, bn));
	/* Length octet 65 ('A') must not be lower-cased into 97. */
	char l65[80];
	memset(l65, 'Q', 63);
	strcpy(l65 + 63, ".");
	uint8_t c[ZG_WIRE_NAME_MAX];
	size_t cn = wname(l65, c);
	zg_wire_name_lower(c, cn);
	assert_int_equal(c[0], 63);
	assert_int_equal(c[1], 'q');
	an = wname("AbC.", a);
	zg_wire_name_lower(a, an);
	assert_memory_equal(a,
	                    "\x03"
	                    "abc\x00",
	                    5);
}

static void test_hdr_and_rr(void **state)
{
	uint8_t m[64] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 3, 0, 4};
	zg_wire_hdr_t h;
	assert_int_equal(zg_wire_hdr_parse(m, 11, &h), RDNS_EINVAL);
	assert_int_equal(zg_wire_hdr_parse(m, 12, &h), RDNS_OK);
	assert_int_equal(h.id, 0x1234);
	assert_int_equal(h.flags, 0x8180);
	assert_int_equal(h.count[3], 4);
	uint8_t m2[12];
	zg_wire_hdr_write(m2, &h);
	assert_memory_equal(m, m2, 12);

	/* RR: root owner, type PTR, class IN, TTL 3600, rdlen 3, rdata "\x01a\x00" */
	uint8_t rr[] = {0, 0, 12, 0, 1, 0, 0, 0x0e, 0x10, 0, 3, 1, 'a', 0};
	zg_wire_rr_t r;
	size_t pos = 0;
	assert_int_equal(zg_wire_rr_parse(rr, sizeof(rr), &pos, &r), RDNS_OK);
	assert_int_equal(pos, sizeof(rr));
	assert_int_equal(r.type, 12);
	assert_int_equal(r.ttl, 3600);
	assert_int_equal(r.rdlen, 3);
	assert_int_equal(r.rdata_off, 11);
	pos = 0;
	assert_int_equal(zg_wire_rr_parse(rr, sizeof(rr) - 1, &pos, &r), RDNS_EINVAL); /* RDATA cut */
	pos = 0;
	assert_int_equal(zg_wire_rr_parse(rr, 8, &pos, &r), RDNS_EINVAL); /* fixed part cut */
}

/* ---- compression ---- */

static size_t put_and_len(zg_wire_msg_t *m, const char *text)
{
	uint8_t n[ZG_WIRE_NAME_MAX];
	size_t nl = wname(text, n);
	size_t before = m->len;
	assert_int_equal(zg_wire_msg_put_name(m, n, nl, true), RDNS_OK);
	return m->len - before;
}

static void assert_name_at(const zg_wire_msg_t *m, size_t off, const char *text)
{
	uint8_t out[ZG_WIRE_NAME_MAX];
	size_t n, pos = off;
	char buf[1100];
	assert_int_equal(zg_wire_name_parse(m->buf, m->len, &pos, out, &n), RDNS_OK);
	assert_int_equal(zg_wire_name_to_text(out, n, buf, sizeof(buf)), RDNS_OK);
	assert_string_equal(buf, text);
}

static void test_compression_basic(void **state)
{
	uint8_t buf[512];
	zg_wire_ct_t ct[64];
	zg_wire_msg_t m;
	zg_wire_msg_init(&m, buf, sizeof(buf), ct, 64);
	zg_wire_msg_reset(&m, 7, 0);
	assert_int_equal(m.len, 12);

	assert_int_equal(put_and_len(&m, "example.com."), 13); /* at 12 */
	assert_int_equal(put_and_len(&m, "example.com."), 2);  /* pointer only */
	assert_int_equal(put_and_len(&m, "www.example.com."), 6);
	assert_int_equal(put_and_len(&m, "ftp.example.com."), 6);
	assert_int_equal(put_and_len(&m, "a.www.example.com."), 4); /* "a" + pointer to www... */
	assert_int_equal(put_and_len(&m, "EXAMPLE.com."), 10); /* case-sensitive: only "com." is shared */
	assert_int_equal(put_and_len(&m, "."), 1);
	assert_name_at(&m, 12, "example.com.");
	assert_name_at(&m, 25, "example.com.");
	assert_name_at(&m, 27, "www.example.com.");
	assert_name_at(&m, 33, "ftp.example.com.");
	assert_name_at(&m, 39, "a.www.example.com.");
	assert_name_at(&m, 43, "EXAMPLE.com.");

	/* After a reset nothing points into the previous message. */
	zg_wire_msg_reset(&m, 8, 0);
	assert_int_equal(put_and_len(&m, "example.com."), 13);

	/* Without a table: no compression. */
	zg_wire_msg_t plain;
	zg_wire_msg_init(&plain, buf, sizeof(buf), NULL, 0);
	zg_wire_msg_reset(&plain, 1, 0);
	assert_int_equal(put_and_len(&plain, "example.com."), 13);
	assert_int_equal(put_and_len(&plain, "example.com."), 13);

	/* Out of room. */
	uint8_t tiny[20];
	zg_wire_msg_t t;
	zg_wire_msg_init(&t, tiny, sizeof(tiny), ct, 64);
	zg_wire_msg_reset(&t, 1, 0);
	uint8_t n[ZG_WIRE_NAME_MAX];
	size_t nl = wname("example.com.", n);
	assert_int_equal(zg_wire_msg_put_name(&t, n, nl, true), RDNS_ESPACE);
	assert_int_equal(t.len, 12);
}

/* Fill a full-size message with PTR records of many names, well past the
 * 16 KiB pointer reach, then decode every name back and compare. Also
 * checks the result with ldns, an independent parser. */
static void test_compression_big_message(void **state)
{
	uint8_t *buf = malloc(ZG_WIRE_MSG_MAX);
	zg_wire_ct_t *ct = calloc(4096, sizeof(*ct));
	zg_wire_msg_t m;
	assert_non_null(buf);
	assert_non_null(ct);
	zg_wire_msg_init(&m, buf, ZG_WIRE_MSG_MAX, ct, 4096);
	for (int round = 0; round < 3; round++) { /* also exercises table reuse across resets */
		zg_wire_msg_reset(&m, 0x4242, ZG_WIRE_QR | ZG_WIRE_AA);
		int n = 0;
		static size_t offs[4000];
		static char owners[4000][64], targets[4000][64];
		for (;; n++) {
			zg_wire_zrr_t rr;
			char line[200];
			/* owners across several parents, targets with shared and unique suffixes */
			snprintf(owners[n], sizeof(owners[n]), "%d.%d.10.in-addr.arpa.", n % 256,
			         n / 256 + round);
			snprintf(targets[n], sizeof(targets[n]), "h%d.%s.example.%s.", n,
			         (n % 3) ? "dyn" : "static", (n % 2) ? "com" : "net");
			snprintf(line, sizeof(line), "%s 3600 IN PTR %s", owners[n], targets[n]);
			assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_OK);
			if (m.len + zg_wire_zrr_maxlen(&rr) > 60000 || n == 3999)
				break;
			offs[n] = m.len;
			assert_int_equal(zg_wire_msg_put_zrr(&m, ZG_SEC_AN, &rr), RDNS_OK);
		}
		zg_wire_msg_finish(&m);
		assert_true(m.len > 0x4000 * 2);
		/* Decode with our parser. */
		size_t pos = 12;
		for (int i = 0; i < n; i++) {
			zg_wire_rr_t r;
			char txt[1100];
			assert_int_equal(pos, offs[i]);
			assert_int_equal(zg_wire_rr_parse(m.buf, m.len, &pos, &r), RDNS_OK);
			assert_int_equal(zg_wire_name_to_text(r.owner, r.owner_len, txt, sizeof(txt)),
			                 RDNS_OK);
			assert_string_equal(txt, owners[i]);
			size_t rp = r.rdata_off;
			uint8_t t[ZG_WIRE_NAME_MAX];
			size_t tl;
			assert_int_equal(zg_wire_name_parse(m.buf, m.len, &rp, t, &tl), RDNS_OK);
			assert_int_equal(rp, r.rdata_off + r.rdlen);
			assert_int_equal(zg_wire_name_to_text(t, tl, txt, sizeof(txt)), RDNS_OK);
			assert_string_equal(txt, targets[i]);
		}
		assert_int_equal(pos, m.len);
		/* Compression pays: far below the uncompressed size. */
		size_t raw = 0;
		for (int i = 0; i < n; i++)
			raw += strlen(owners[i]) + 1 + 10 + strlen(targets[i]) + 1;
		assert_true(m.len - 12 < raw * 6 / 10);

		/* And with ldns. */
		ldns_pkt *pkt = NULL;
		assert_int_equal(ldns_wire2pkt(&pkt, m.buf, m.len), LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_ancount(pkt), n);
		for (int i = 0; i < n; i += 97) {
			ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), (size_t)i);
			char *o = ldns_rdf2str(ldns_rr_owner(rr));
			char *t = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			assert_string_equal(o, owners[i]);
			assert_string_equal(t, targets[i]);
			free(o);
			free(t);
		}
		ldns_pkt_free(pkt);
	}
	free(ct);
	free(buf);
}

static void test_question_and_rr(void **state)
{
	uint8_t buf[512];
	zg_wire_ct_t ct[64];
	zg_wire_msg_t m;
	uint8_t q[ZG_WIRE_NAME_MAX];
	size_t ql = wname("2.0.192.in-addr.arpa.", q);
	zg_wire_msg_init(&m, buf, sizeof(buf), ct, 64);
	zg_wire_msg_reset(&m, 0xbeef, ZG_WIRE_QR | ZG_WIRE_AA);
	zg_wire_msg_set_rcode(&m, ZG_RCODE_REFUSED);
	assert_int_equal(zg_wire_msg_put_question(&m, q, ql, ZG_TYPE_SOA, ZG_CLASS_IN), RDNS_OK);
	const char *line =
	    "2.0.192.in-addr.arpa. 3600 IN SOA ns1.example.net. hostmaster.example.net. 2026112601 "
	    "3600 900 1209600 3600";
	zg_wire_zrr_t rr;
	assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_OK);
	assert_int_equal(zg_wire_msg_put_zrr(&m, ZG_SEC_AN, &rr), RDNS_OK);
	zg_wire_msg_finish(&m);

	ldns_pkt *pkt = NULL;
	assert_int_equal(ldns_wire2pkt(&pkt, m.buf, m.len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(pkt), 0xbeef);
	assert_true(ldns_pkt_qr(pkt));
	assert_true(ldns_pkt_aa(pkt));
	assert_int_equal(ldns_pkt_get_rcode(pkt), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_qdcount(pkt), 1);
	assert_int_equal(ldns_pkt_ancount(pkt), 1);
	char *s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(pkt), 0));
	assert_string_equal(s,
	                    "2.0.192.in-addr.arpa.\t3600\tIN\tSOA\tns1.example.net. hostmaster.example.net. "
	                    "2026112601 3600 900 1209600 3600\n");
	free(s);
	ldns_pkt_free(pkt);
	/* The owner is a pointer to the question name at offset 12. */
	size_t owner_at = 12 + ql + 4;
	assert_int_equal(buf[owner_at], 0xc0);
	assert_int_equal(buf[owner_at + 1], 12);
}

/* Questions as replies carry them: a name (here a pointer to an earlier one),
 * QTYPE and QCLASS; anything cut short is malformed. */
static void test_question_parse(void **state)
{
	uint8_t buf[128];
	zg_wire_ct_t ct[16];
	zg_wire_msg_t m;
	uint8_t z[ZG_WIRE_NAME_MAX], name[ZG_WIRE_NAME_MAX];
	size_t zl = wname("2.0.192.IN-ADDR.arpa.", z), nl, pos;
	uint16_t qt, qc;

	zg_wire_msg_init(&m, buf, sizeof(buf), ct, 16);
	zg_wire_msg_reset(&m, 1, ZG_WIRE_OPCODE_FLAGS(ZG_OPCODE_NOTIFY) | ZG_WIRE_AA);
	assert_int_equal(zg_wire_msg_put_question(&m, z, zl, ZG_TYPE_SOA, ZG_CLASS_IN), RDNS_OK);
	assert_int_equal(zg_wire_msg_put_question(&m, z, zl, ZG_TYPE_AXFR, ZG_CLASS_ANY), RDNS_OK);
	zg_wire_msg_finish(&m);
	assert_int_equal(zg_wire_get16(buf + 2), 0x2400); /* opcode 4 and AA, as RFC 1996 NOTIFY */
	assert_int_equal(ZG_WIRE_OPCODE(zg_wire_get16(buf + 2)), ZG_OPCODE_NOTIFY);
	assert_int_equal(m.len, 12 + zl + 4 + 2 + 4); /* the second name is a pointer */

	pos = ZG_WIRE_HDR_LEN;
	assert_int_equal(zg_wire_question_parse(buf, m.len, &pos, name, &nl, &qt, &qc), RDNS_OK);
	assert_int_equal(pos, 12 + zl + 4);
	assert_memory_equal(name, z, zl); /* case kept */
	assert_int_equal(nl, zl);
	assert_int_equal(qt, ZG_TYPE_SOA);
	assert_int_equal(qc, ZG_CLASS_IN);
	assert_int_equal(zg_wire_question_parse(buf, m.len, &pos, name, &nl, &qt, &qc), RDNS_OK);
	assert_int_equal(pos, m.len);
	assert_true(zg_wire_name_equal(name, nl, z, zl));
	assert_int_equal(qt, ZG_TYPE_AXFR);
	assert_int_equal(qc, ZG_CLASS_ANY);

	/* cut inside QTYPE/QCLASS, inside the name, at the end: malformed, *pos untouched */
	for (size_t cut = 12; cut < 12 + zl + 4; cut++) {
		pos = ZG_WIRE_HDR_LEN;
		if (zg_wire_question_parse(buf, cut, &pos, name, &nl, &qt, &qc) != RDNS_EINVAL)
			fail_msg("question cut at %zu parsed", cut);
		assert_int_equal(pos, ZG_WIRE_HDR_LEN);
	}
	pos = m.len;
	assert_int_equal(zg_wire_question_parse(buf, m.len, &pos, name, &nl, &qt, &qc), RDNS_EINVAL);
	/* a pointer forward (to itself) is refused as in any name */
	pos = 12 + zl + 4;
	buf[pos + 1] = (uint8_t)pos;
	assert_int_equal(zg_wire_question_parse(buf, m.len, &pos, name, &nl, &qt, &qc), RDNS_EINVAL);
}

/* ---- zone-file lines ---- */

typedef struct {
	const char *line;
	int rc;
	uint16_t type;
	uint32_t ttl;
	const char *owner;
	const char *target;
} zrr_case_t;

static void test_zrr_parse_table(void **state)
{
	const zrr_case_t cases[] = {
	    {"10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.", RDNS_OK, ZG_TYPE_PTR, 3600,
	     "10.2.0.192.in-addr.arpa.", "mail.example.com."},
	    {"2.0.192.in-addr.arpa. 86400 IN NS ns1.example.net.", RDNS_OK, ZG_TYPE_NS, 86400,
	     "2.0.192.in-addr.arpa.", "ns1.example.net."},
	    {"10.2.0.192.in-addr.arpa. 0 in cname 10.0-63.2.0.192.in-addr.arpa.", RDNS_OK, ZG_TYPE_CNAME, 0,
	     "10.2.0.192.in-addr.arpa.", "10.0-63.2.0.192.in-addr.arpa."},
	    {"x.example.\t60\tIN\tPTR\ty.example.\r", RDNS_OK, ZG_TYPE_PTR, 60, "x.example.", "y.example."},
	    {"  x.example.  60  IN  PTR  y.example.  ; trailing comment", RDNS_OK, ZG_TYPE_PTR, 60,
	     "x.example.", "y.example."},
	    {"a\\032b.example. 60 IN PTR c\\.d.example.", RDNS_OK, ZG_TYPE_PTR, 60, "a\\032b.example.",
	     "c\\.d.example."},
	    {"x.example. 4294967295 IN PTR .", RDNS_OK, ZG_TYPE_PTR, 4294967295u, "x.example.", "."},
	    {"; rdns zone 2.0.192.in-addr.arpa. serial 1", RDNS_ENOTFOUND, 0, 0, NULL, NULL},
	    {"", RDNS_ENOTFOUND, 0, 0, NULL, NULL},
	    {"   \t ", RDNS_ENOTFOUND, 0, 0, NULL, NULL},
	    {"x.example. 4294967296 IN PTR y.example.", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 36x0 IN PTR y.example.", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 3600 CH PTR y.example.", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 3600 IN A 192.0.2.1", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 3600 IN PTR y.example", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example 3600 IN PTR y.example.", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x..example. 3600 IN PTR y.example.", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 3600 IN PTR y.example. extra", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 3600 IN PTR", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 3600 IN", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 3600 IN SOA a. b. 1 2 3 4", RDNS_EINVAL, 0, 0, NULL, NULL},
	    {"x.example. 3600 IN SOA a. b. 1 2 3 4 5 6", RDNS_EINVAL, 0, 0, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zg_wire_zrr_t rr;
		int rc = zg_wire_zrr_parse(cases[i].line, strlen(cases[i].line), &rr);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].line, rc, cases[i].rc);
		if (rc != RDNS_OK)
			continue;
		char buf[1100];
		assert_int_equal(rr.type, cases[i].type);
		assert_int_equal(rr.ttl, cases[i].ttl);
		assert_int_equal(zg_wire_name_to_text(rr.owner, rr.owner_len, buf, sizeof(buf)), RDNS_OK);
		assert_string_equal(buf, cases[i].owner);
		assert_int_equal(zg_wire_name_to_text(rr.name1, rr.name1_len, buf, sizeof(buf)), RDNS_OK);
		assert_string_equal(buf, cases[i].target);
	}

	const char *soa =
	    "2.0.192.in-addr.arpa. 3600 IN SOA ns1.example.net. hostmaster.example.net. 2026112601 "
	    "3600 900 1209600 300";
	zg_wire_zrr_t rr;
	assert_int_equal(zg_wire_zrr_parse(soa, strlen(soa), &rr), RDNS_OK);
	assert_int_equal(rr.type, ZG_TYPE_SOA);
	assert_int_equal(rr.soa[0], 2026112601u);
	assert_int_equal(rr.soa[1], 3600);
	assert_int_equal(rr.soa[2], 900);
	assert_int_equal(rr.soa[3], 1209600);
	assert_int_equal(rr.soa[4], 300);
	/* owner 22, fixed 10, MNAME 17, RNAME 24, five numbers 20 */
	assert_int_equal(zg_wire_zrr_maxlen(&rr), 22 + 10 + 17 + 24 + 20);

	/* A label of 64 characters and a name of 256 octets are refused. */
	char line[600];
	char l64[65];
	memset(l64, 'a', 64);
	l64[64] = 0;
	snprintf(line, sizeof(line), "%s.example. 1 IN PTR x.", l64);
	assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_EINVAL);
	snprintf(line, sizeof(line), "%.63s.example. 1 IN PTR x.", l64);
	assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_OK);
	char l63[64];
	memset(l63, 'b', 63);
	l63[63] = 0;
	snprintf(line, sizeof(line), "x. 1 IN PTR %s.%s.%s.%.61s.", l63, l63, l63, l63);
	assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_OK);
	assert_int_equal(rr.name1_len, 255);
	snprintf(line, sizeof(line), "x. 1 IN PTR %s.%s.%s.%.62s.", l63, l63, l63, l63);
	assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_EINVAL);
	snprintf(line, sizeof(line), "x. 1 IN PTR %s.%s.%s.%.61s.a.", l63, l63, l63, l63);
	assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_EINVAL);
	snprintf(line, sizeof(line), "x. 1 IN PTR %s.%s.%s.%s.%s.", l63, l63, l63, l63, l63);
	assert_int_equal(zg_wire_zrr_parse(line, strlen(line), &rr), RDNS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_from_text_table),
	    cmocka_unit_test(test_name_to_text_roundtrip),
	    cmocka_unit_test(test_name_parse_table),
	    cmocka_unit_test(test_name_equal_lower),
	    cmocka_unit_test(test_hdr_and_rr),
	    cmocka_unit_test(test_compression_basic),
	    cmocka_unit_test(test_compression_big_message),
	    cmocka_unit_test(test_question_and_rr),
	    cmocka_unit_test(test_question_parse),
	    cmocka_unit_test(test_zrr_parse_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
