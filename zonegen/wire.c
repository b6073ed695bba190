/* wire.c - DNS wire format helpers: header, names, compression, message assembly, zone-file lines. */
#include "zonegen/wire.h"

#include <string.h>

#include "core/err.h"

int zg_wire_hdr_parse(const uint8_t *msg, size_t len, zg_wire_hdr_t *h)
{
	if (len < ZG_WIRE_HDR_LEN)
		return RDNS_EINVAL;
	h->id = zg_wire_get16(msg);
	h->flags = zg_wire_get16(msg + 2);
	for (int i = 0; i < 4; i++)
		h->count[i] = zg_wire_get16(msg + 4 + 2 * i);
	return RDNS_OK;
}

void zg_wire_hdr_write(uint8_t *msg, const zg_wire_hdr_t *h)
{
	zg_wire_put16(msg, h->id);
	zg_wire_put16(msg + 2, h->flags);
	for (int i = 0; i < 4; i++)
		zg_wire_put16(msg + 4 + 2 * i, h->count[i]);
}

/* ---- names ---- */

int zg_wire_name_parse(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out, size_t *outlen)
{
	size_t p = *pos;
	size_t seg = p; /* start of the segment being read; pointers must go below it */
	size_t end = 0; /* where the in-place encoding ends (set at the first pointer) */
	bool jumped = false;
	size_t o = 0;

	for (;;) {
		if (p >= len)
			return RDNS_EINVAL;
		uint8_t c = msg[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return RDNS_EINVAL;
			size_t target = ((size_t)(c & 0x3f) << 8) | msg[p + 1];
			/* Only strictly backward jumps below the current segment: each
			 * jump lowers seg, so the walk ends (RFC 1035 §4.1.4 "prior
			 * occurrence"). */
			if (target >= seg)
				return RDNS_EINVAL;
			if (!jumped) {
				end = p + 2;
				jumped = true;
			}
			p = seg = target;
			continue;
		}
		if (c & 0xc0) /* 0x40 and 0x80: extended / reserved label types */
			return RDNS_EINVAL;
		if (p + 1 + c > len)
			return RDNS_EINVAL;
		if (o + 1 + c > ZG_WIRE_NAME_MAX)
			return RDNS_EINVAL;
		memcpy(out + o, msg + p, 1 + (size_t)c);
		o += 1 + (size_t)c;
		p += 1 + (size_t)c;
		if (c == 0)
			break;
	}
	*pos = jumped ? end : p;
	*outlen = o;
	return RDNS_OK;
}

/* zg_wire_name_from_text for text without escapes: label by label with memchr. */
static int name_plain(const char *s, size_t n, bool require_dot, uint8_t *out, size_t *outlen)
{
	size_t o = 0;
	size_t i = 0;
	if (s[n - 1] != '.') {
		if (require_dot)
			return RDNS_EINVAL;
	} else {
		n--; /* the final dot stands for the root label */
	}
	while (i < n) {
		const char *dot = memchr(s + i, '.', n - i);
		size_t ll = dot ? (size_t)(dot - (s + i)) : n - i;
		if (ll == 0 || ll > ZG_WIRE_LABEL_MAX || o + 1 + ll + 1 > ZG_WIRE_NAME_MAX)
			return RDNS_EINVAL;
		out[o] = (uint8_t)ll;
		memcpy(out + o + 1, s + i, ll);
		o += 1 + ll;
		i += ll + 1;
		if (dot != NULL && i == n)
			return RDNS_EINVAL; /* "a.." style: empty label before the final dot */
	}
	if (o == 0)
		return RDNS_EINVAL;
	out[o++] = 0;
	*outlen = o;
	return RDNS_OK;
}

int zg_wire_name_from_text(const char *s, size_t n, bool require_dot, uint8_t *out, size_t *outlen)
{
	if (n == 1 && s[0] == '.') {
		out[0] = 0;
		*outlen = 1;
		return RDNS_OK;
	}
	if (n == 0)
		return RDNS_EINVAL;
	if (memchr(s, '\\', n) == NULL)
		return name_plain(s, n, require_dot, out, outlen);
	size_t o = 0;      /* write position */
	size_t lstart = 0; /* position of the current label's length octet */
	size_t i = 0;
	bool ended_with_dot = false;

	if (o + 1 > ZG_WIRE_NAME_MAX)
		return RDNS_EINVAL;
	out[o++] = 0;
	while (i < n) {
		char ch = s[i];
		if (ch == '.') {
			size_t ll = o - lstart - 1;
			if (ll == 0)
				return RDNS_EINVAL; /* empty label */
			out[lstart] = (uint8_t)ll;
			i++;
			if (i == n) {
				ended_with_dot = true;
				break;
			}
			if (o + 1 > ZG_WIRE_NAME_MAX)
				return RDNS_EINVAL;
			lstart = o;
			out[o++] = 0;
			continue;
		}
		uint8_t byte;
		if (ch == '\\') {
			if (i + 1 >= n)
				return RDNS_EINVAL;
			char e = s[i + 1];
			if (e >= '0' && e <= '9') {
				if (i + 4 > n)
					return RDNS_EINVAL;
				unsigned v = 0;
				for (int k = 1; k <= 3; k++) {
					char d = s[i + (size_t)k];
					if (d < '0' || d > '9')
						return RDNS_EINVAL;
					v = v * 10 + (unsigned)(d - '0');
				}
				if (v > 255)
					return RDNS_EINVAL;
				byte = (uint8_t)v;
				i += 4;
			} else {
				byte = (uint8_t)e;
				i += 2;
			}
		} else {
			byte = (uint8_t)ch;
			i++;
		}
		if (o - lstart - 1 >= ZG_WIRE_LABEL_MAX)
			return RDNS_EINVAL;
		if (o + 1 > ZG_WIRE_NAME_MAX - 1) /* keep room for the root octet */
			return RDNS_EINVAL;
		out[o++] = byte;
	}
	if (!ended_with_dot) {
		if (require_dot)
			return RDNS_EINVAL;
		size_t ll = o - lstart - 1;
		if (ll == 0)
			return RDNS_EINVAL;
		out[lstart] = (uint8_t)ll;
	}
	if (o + 1 > ZG_WIRE_NAME_MAX)
		return RDNS_EINVAL;
	out[o++] = 0;
	*outlen = o;
	return RDNS_OK;
}

int zg_wire_name_to_text(const uint8_t *name, size_t nlen, char *buf, size_t buflen)
{
	size_t o = 0;
	size_t p = 0;

	if (buflen == 0)
		return RDNS_ESPACE;
	if (nlen == 1 && name[0] == 0) {
		if (buflen < 2)
			return RDNS_ESPACE;
		buf[0] = '.';
		buf[1] = '\0';
		return RDNS_OK;
	}
	while (p < nlen) {
		uint8_t ll = name[p];
		if (ll == 0) {
			if (p + 1 != nlen)
				return RDNS_EINVAL;
			buf[o] = '\0';
			return RDNS_OK;
		}
		if (ll > ZG_WIRE_LABEL_MAX || p + 1 + ll > nlen)
			return RDNS_EINVAL;
		for (size_t k = 0; k < ll; k++) {
			uint8_t c = name[p + 1 + k];
			char tmp[5];
			size_t tl;
			if (c == '.' || c == ';' || c == '\\' || c == '(' || c == ')' || c == '"' ||
			    c == '@' || c == '$') {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				tl = 2;
			} else if (c <= 0x20 || c >= 0x7f) {
				tmp[0] = '\\';
				tmp[1] = (char)('0' + c / 100);
				tmp[2] = (char)('0' + (c / 10) % 10);
				tmp[3] = (char)('0' + c % 10);
				tl = 4;
			} else {
				tmp[0] = (char)c;
				tl = 1;
			}
			if (o + tl + 1 >= buflen)
				return RDNS_ESPACE;
			memcpy(buf + o, tmp, tl);
			o += tl;
		}
		if (o + 2 > buflen)
			return RDNS_ESPACE;
		buf[o++] = '.';
		p += 1 + (size_t)ll;
	}
	return RDNS_EINVAL; /* no root label */
}

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool zg_wire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	size_t p = 0;
	while (p < alen) {
		uint8_t ll = a[p];
		if (b[p] != ll)
			return false;
		p++;
		for (size_t k = 0; k < ll && p < alen; k++, p++)
			if (lower(a[p]) != lower(b[p]))
				return false;
		if (ll == 0)
			break;
	}
	return true;
}

void zg_wire_name_lower(uint8_t *name, size_t nlen)
{
	size_t p = 0;
	while (p < nlen) {
		uint8_t ll = name[p++];
		if (ll == 0)
			break;
		for (size_t k = 0; k < ll && p < nlen; k++, p++)
			name[p] = lower(name[p]);
	}
}

/* ---- questions and RRs ---- */

int zg_wire_question_parse(const uint8_t *msg, size_t len, size_t *pos, uint8_t *name, size_t *nlen,
                           uint16_t *qtype, uint16_t *qclass)
{
	size_t p = *pos;
	if (zg_wire_name_parse(msg, len, &p, name, nlen) != RDNS_OK || len - p < 4)
		return RDNS_EINVAL;
	*qtype = zg_wire_get16(msg + p);
	*qclass = zg_wire_get16(msg + p + 2);
	*pos = p + 4;
	return RDNS_OK;
}

int zg_wire_rr_parse(const uint8_t *msg, size_t len, size_t *pos, zg_wire_rr_t *rr)
{
	size_t p = *pos;
	rr->start = p;
	if (zg_wire_name_parse(msg, len, &p, rr->owner, &rr->owner_len) != RDNS_OK)
		return RDNS_EINVAL;
	if (len - p < 10)
		return RDNS_EINVAL;
	rr->type = zg_wire_get16(msg + p);
	rr->rclass = zg_wire_get16(msg + p + 2);
	rr->ttl = zg_wire_get32(msg + p + 4);
	rr->rdlen = zg_wire_get16(msg + p + 8);
	p += 10;
	if (len - p < rr->rdlen)
		return RDNS_EINVAL;
	rr->rdata_off = p;
	*pos = p + rr->rdlen;
	return RDNS_OK;
}

/* ---- message assembly ---- */

void zg_wire_msg_init(zg_wire_msg_t *m, uint8_t *buf, size_t cap, zg_wire_ct_t *ct, size_t ct_size)
{
	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->cap = cap > ZG_WIRE_MSG_MAX ? ZG_WIRE_MSG_MAX : cap;
	if (ct != NULL && ct_size >= 2 && (ct_size & (ct_size - 1)) == 0) {
		m->ct = ct;
		m->ct_mask = ct_size - 1;
		memset(ct, 0, ct_size * sizeof(*ct));
	}
	m->gen = 0;
}

void zg_wire_msg_reset(zg_wire_msg_t *m, uint16_t id, uint16_t flags)
{
	memset(m->count, 0, sizeof(m->count));
	m->len = 0;
	if (m->cap >= ZG_WIRE_HDR_LEN) {
		zg_wire_hdr_t h = {.id = id, .flags = flags};
		zg_wire_hdr_write(m->buf, &h);
		m->len = ZG_WIRE_HDR_LEN;
	}
	if (m->ct != NULL) {
		/* A new generation empties the table without touching it; on wrap
		 * clear it for real. */
		m->gen++;
		if (m->gen == 0) {
			memset(m->ct, 0, (m->ct_mask + 1) * sizeof(*m->ct));
			memset(m->pc, 0, sizeof(m->pc));
			m->gen = 1;
		}
		m->ct_used = 0;
	}
}

void zg_wire_msg_set_rcode(zg_wire_msg_t *m, unsigned rcode)
{
	uint16_t f = zg_wire_get16(m->buf + 2);
	f = (uint16_t)((f & ~0xfu) | (rcode & 0xfu));
	zg_wire_put16(m->buf + 2, f);
}

int zg_wire_msg_put_bytes(zg_wire_msg_t *m, const void *p, size_t n)
{
	if (m->cap - m->len < n)
		return RDNS_ESPACE;
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return RDNS_OK;
}

int zg_wire_msg_put16(zg_wire_msg_t *m, uint16_t v)
{
	if (m->cap - m->len < 2)
		return RDNS_ESPACE;
	zg_wire_put16(m->buf + m->len, v);
	m->len += 2;
	return RDNS_OK;
}

int zg_wire_msg_put32(zg_wire_msg_t *m, uint32_t v)
{
	if (m->cap - m->len < 4)
		return RDNS_ESPACE;
	zg_wire_put32(m->buf + m->len, v);
	m->len += 4;
	return RDNS_OK;
}

/* Whether the name written at off in the message (following our own
 * pointers) is byte-for-byte the uncompressed suffix s[0..slen). */
static bool ct_match(const zg_wire_msg_t *m, size_t off, const uint8_t *s, size_t slen)
{
	size_t i = 0;
	int hops = 0;
	while (off < m->len) {
		uint8_t c = m->buf[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= m->len || ++hops > 127)
				return false;
			off = ((size_t)(c & 0x3f) << 8) | m->buf[off + 1];
			continue;
		}
		if (i >= slen || c != s[i])
			return false;
		if (c == 0)
			return i + 1 == slen;
		if (off + 1 + c > m->len || i + 1 + c > slen)
			return false;
		if (memcmp(m->buf + off + 1, s + i + 1, c) != 0)
			return false;
		off += 1 + (size_t)c;
		i += 1 + (size_t)c;
	}
	return false;
}

/* Short copies (a label, a cached encoding): a plain loop, because GCC
 * expands a bounded-size memcpy into "rep movsq", whose start-up cost is
 * several times the copy itself here. */
static inline void copy_short(uint8_t *restrict d, const uint8_t *restrict s, size_t n)
{
	while (n >= 8) {
		uint64_t v;
		__builtin_memcpy(&v, s, 8);
		__builtin_memcpy(d, &v, 8);
		d += 8;
		s += 8;
		n -= 8;
	}
	while (n--)
		*d++ = *s++;
}

static uint32_t fnv(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		acc ^= p[k];
		acc *= 16777619u;
	}
	return acc;
}

/* Offset of a name equal to s[0..slen) with hash h, or -1. */
static long ct_lookup(const zg_wire_msg_t *m, uint32_t h, const uint8_t *s, size_t slen)
{
	size_t slot = h & m->ct_mask;
	for (size_t probe = 0; probe <= m->ct_mask; probe++) {
		const zg_wire_ct_t *e = &m->ct[(slot + probe) & m->ct_mask];
		if (e->gen != m->gen)
			return -1;
		if (e->hash == h && ct_match(m, e->off, s, slen))
			return e->off;
	}
	return -1;
}

/* Remember that the name with hash h starts at off, if a pointer can reach
 * it and the table has room (kept at most half full: short probe runs). */
static void ct_insert(zg_wire_msg_t *m, uint32_t h, size_t off)
{
	if (off >= 0x4000 || m->ct_used >= (m->ct_mask + 1) / 2)
		return;
	size_t slot = h & m->ct_mask;
	for (size_t probe = 0; probe <= m->ct_mask; probe++) {
		zg_wire_ct_t *e = &m->ct[(slot + probe) & m->ct_mask];
		if (e->gen != m->gen) {
			e->gen = m->gen;
			e->hash = h;
			e->off = (uint16_t)off;
			m->ct_used++;
			return;
		}
	}
}

/* Fast path: consecutive records mostly share the parent of their names
 * ("b.a.0.10.in-addr.arpa." after "c.a.0.10.in-addr.arpa."), so a tiny cache
 * of recent parents and their encodings skips the hashing of most names.
 * Returns 1 when the cache cannot help. */
static int put_name_cached(zg_wire_msg_t *m, const uint8_t *name, size_t nlen)
{
	size_t l0 = 1 + (size_t)name[0];
	if (l0 >= nlen)
		return 1;
	const uint8_t *par = name + l0;
	size_t plen = nlen - l0;
	for (int k = 0; k < ZG_WIRE_PC_SLOTS; k++) {
		const zg_wire_pc_t *pc = &m->pc[k];
		if (pc->gen != m->gen || pc->len != plen || memcmp(pc->name, par, plen) != 0)
			continue;
		uint32_t h0 = fnv(pc->hash, name, l0);
		long full = ct_lookup(m, h0, name, nlen);
		if (full >= 0) {
			if (m->cap - m->len < 2)
				return RDNS_ESPACE;
			zg_wire_put16(m->buf + m->len, (uint16_t)(0xc000u | (size_t)full));
			m->len += 2;
			return RDNS_OK;
		}
		if (m->cap - m->len < l0 + pc->enc_len)
			return RDNS_ESPACE;
		size_t base = m->len;
		copy_short(m->buf + base, name, l0);
		copy_short(m->buf + base + l0, pc->enc, pc->enc_len);
		m->len += l0 + pc->enc_len;
		ct_insert(m, h0, base);
		return RDNS_OK;
	}
	return 1;
}

/* Cache the parent par (hash h) as encoded by enc[0..elen). */
static void pc_store(zg_wire_msg_t *m, const uint8_t *par, size_t plen, const uint8_t *enc, size_t elen,
                     uint32_t h)
{
	if (plen <= 1 || elen > sizeof(m->pc[0].enc))
		return;
	zg_wire_pc_t *pc = &m->pc[m->pc_next];
	m->pc_next = (m->pc_next + 1) % ZG_WIRE_PC_SLOTS;
	copy_short(pc->name, par, plen);
	pc->len = (uint16_t)plen;
	copy_short(pc->enc, enc, elen);
	pc->enc_len = (uint16_t)elen;
	pc->hash = h;
	pc->gen = m->gen;
}

int zg_wire_msg_put_name(zg_wire_msg_t *m, const uint8_t *name, size_t nlen, bool compress)
{
	uint8_t lo[128]; /* label start offsets within name (a name has at most 127 labels) */
	uint32_t h[128];
	size_t nl = 0;
	size_t p = 0;

	if (!compress || m->ct == NULL || nlen <= 1)
		return zg_wire_msg_put_bytes(m, name, nlen);
	int crc = put_name_cached(m, name, nlen);
	if (crc <= 0)
		return crc;

	while (p < nlen && name[p] != 0) {
		if (nl >= 127)
			return zg_wire_msg_put_bytes(m, name, nlen);
		lo[nl++] = (uint8_t)p;
		p += 1 + (size_t)name[p];
	}
	if (p + 1 != nlen)
		return zg_wire_msg_put_bytes(m, name, nlen); /* not a well-formed name: copy as is */

	/* FNV-1a chained from the root up, so h[i] covers the suffix at label i. */
	uint32_t acc = 2166136261u;
	for (size_t i = nl; i-- > 0;) {
		acc = fnv(acc, name + lo[i], 1 + (size_t)name[lo[i]]);
		h[i] = acc;
	}

	size_t match = nl; /* first label index whose suffix is found */
	uint16_t ptr = 0;
	for (size_t i = 0; i < nl; i++) {
		long off = ct_lookup(m, h[i], name + lo[i], nlen - lo[i]);
		if (off >= 0) {
			match = i;
			ptr = (uint16_t)off;
			break;
		}
	}

	size_t rawlen = (match < nl) ? lo[match] : nlen;
	size_t need = rawlen + (match < nl ? 2 : 0);
	if (m->cap - m->len < need)
		return RDNS_ESPACE;
	size_t base = m->len;
	copy_short(m->buf + base, name, rawlen);
	m->len += rawlen;
	if (match < nl) {
		zg_wire_put16(m->buf + m->len, (uint16_t)(0xc000u | ptr));
		m->len += 2;
	}

	/* Remember the new suffixes (pointers reach only the first 16 KiB). */
	for (size_t i = 0; i < match; i++)
		ct_insert(m, h[i], base + lo[i]);
	/* And how this name's parent is encoded, for the next names. */
	if (nl >= 2 && match >= 1) {
		uint8_t enc[2];
		size_t poff = base + lo[1];
		if (match == 1) {
			zg_wire_put16(enc, (uint16_t)(0xc000u | ptr));
			pc_store(m, name + lo[1], nlen - lo[1], enc, 2, h[1]);
		} else if (poff < 0x4000) {
			zg_wire_put16(enc, (uint16_t)(0xc000u | poff));
			pc_store(m, name + lo[1], nlen - lo[1], enc, 2, h[1]);
		} else {
			pc_store(m, name + lo[1], nlen - lo[1], m->buf + poff, m->len - poff, h[1]);
		}
	}
	return RDNS_OK;
}

int zg_wire_msg_put_question(zg_wire_msg_t *m, const uint8_t *name, size_t nlen, uint16_t qtype,
                             uint16_t qclass)
{
	int rc = zg_wire_msg_put_name(m, name, nlen, true);
	if (rc == RDNS_OK)
		rc = zg_wire_msg_put16(m, qtype);
	if (rc == RDNS_OK)
		rc = zg_wire_msg_put16(m, qclass);
	if (rc == RDNS_OK)
		m->count[ZG_SEC_QD]++;
	return rc;
}

int zg_wire_msg_rr_begin(zg_wire_msg_t *m, const uint8_t *owner, size_t olen, uint16_t type, uint16_t rclass,
                         uint32_t ttl, size_t *rdlen_off)
{
	int rc = zg_wire_msg_put_name(m, owner, olen, true);
	if (rc != RDNS_OK)
		return rc;
	if (m->cap - m->len < 10)
		return RDNS_ESPACE;
	uint8_t *p = m->buf + m->len;
	zg_wire_put16(p, type);
	zg_wire_put16(p + 2, rclass);
	zg_wire_put32(p + 4, ttl);
	zg_wire_put16(p + 8, 0);
	*rdlen_off = m->len + 8;
	m->len += 10;
	return RDNS_OK;
}

void zg_wire_msg_rr_end(zg_wire_msg_t *m, int sec, size_t rdlen_off)
{
	zg_wire_put16(m->buf + rdlen_off, (uint16_t)(m->len - rdlen_off - 2));
	m->count[sec]++;
}

void zg_wire_msg_finish(zg_wire_msg_t *m)
{
	for (int i = 0; i < 4; i++)
		zg_wire_put16(m->buf + 4 + 2 * i, m->count[i]);
}

/* ---- zone-file lines ---- */

/* 1: blank (field separator), 2: backslash, 3: dot, 0: anything else. */
static const uint8_t CHCLASS[256] = {[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\\'] = 2, ['.'] = 3};

/* Next whitespace-separated field of line[*i..len). An unescaped ';' at the
 * start of a field begins a comment and ends the line. */
static bool next_field(const char *line, size_t len, size_t *i, const char **f, size_t *flen)
{
	size_t p = *i;
	while (p < len && CHCLASS[(uint8_t)line[p]] == 1)
		p++;
	if (p >= len || line[p] == ';') {
		*i = len;
		return false;
	}
	size_t s = p;
	while (p < len) {
		uint8_t k = CHCLASS[(uint8_t)line[p]];
		if (k == 1)
			break;
		if (k == 2 && p + 1 < len)
			p++; /* an escaped blank stays in the field */
		p++;
	}
	*f = line + s;
	*flen = p - s;
	*i = p;
	return true;
}

/* Case-insensitive equality with a lower-case word of length wl. */
static bool field_is(const char *f, size_t n, const char *word, size_t wl)
{
	if (n != wl)
		return false;
	for (size_t k = 0; k < n; k++)
		if (lower((uint8_t)f[k]) != (uint8_t)word[k])
			return false;
	return true;
}
#define FIELD_IS(f, n, w) field_is((f), (n), (w), sizeof(w) - 1)

/* Skip blanks; false at the end of the line or at a comment. */
static bool skip_blanks(const char *line, size_t len, size_t *i)
{
	size_t p = *i;
	while (p < len && CHCLASS[(uint8_t)line[p]] == 1)
		p++;
	*i = p;
	return p < len && line[p] != ';';
}

/* An absolute name field at *i, converted in the same pass that finds its
 * end; fields with escapes take the general route. */
static bool name_field(const char *line, size_t len, size_t *i, uint8_t *out, size_t *outlen)
{
	size_t start = *i;
	size_t p = start;
	size_t o = 0;
	bool dot = false;

	while (p < len) {
		size_t lstart = o++;
		/* Copy at most 63 octets, and no more than leaves room for the
		 * root octet (index 254 at the latest). */
		size_t room = o < ZG_WIRE_NAME_MAX - 1 ? ZG_WIRE_NAME_MAX - 1 - o : 0;
		size_t lim = room < ZG_WIRE_LABEL_MAX ? room : ZG_WIRE_LABEL_MAX;
		lim = len - p > lim ? p + lim : len;
		while (p < lim && CHCLASS[(uint8_t)line[p]] == 0)
			out[o++] = (uint8_t)line[p++];
		size_t ll = o - lstart - 1;
		uint8_t k = p < len ? CHCLASS[(uint8_t)line[p]] : 1;
		if (k == 0)
			return false; /* label or name too long */
		if (p == len || k == 1) {
			if (ll != 0)
				return false; /* relative names are not in our format */
			o--;
			break;
		}
		if (k == 2) {
			const char *f;
			size_t fl;
			*i = start;
			return next_field(line, len, i, &f, &fl) &&
			       zg_wire_name_from_text(f, fl, true, out, outlen) == RDNS_OK;
		}
		/* '.' ends a label */
		if (ll == 0) {
			if (p == start && (p + 1 == len || CHCLASS[(uint8_t)line[p + 1]] == 1)) {
				out[0] = 0; /* the root, "." */
				*outlen = 1;
				*i = p + 1;
				return true;
			}
			return false; /* empty label */
		}
		out[lstart] = (uint8_t)ll;
		dot = true;
		p++;
	}
	if (!dot)
		return false;
	out[o++] = 0;
	*outlen = o;
	*i = p;
	return true;
}

static bool u32_field(const char *line, size_t len, size_t *i, uint32_t *out)
{
	size_t p = *i;
	uint64_t v = 0;
	while (p < len && line[p] >= '0' && line[p] <= '9' && p - *i < 10)
		v = v * 10 + (uint64_t)(line[p++] - '0');
	if (p == *i || v > UINT32_MAX || (p < len && CHCLASS[(uint8_t)line[p]] != 1))
		return false;
	*out = (uint32_t)v;
	*i = p;
	return true;
}

static size_t word_field(const char *line, size_t len, size_t *i, const char **w)
{
	size_t p = *i;
	while (p < len && CHCLASS[(uint8_t)line[p]] != 1)
		p++;
	*w = line + *i;
	size_t n = p - *i;
	*i = p;
	return n;
}

int zg_wire_zrr_parse(const char *line, size_t len, zg_wire_zrr_t *rr)
{
	size_t i = 0;
	const char *f;
	size_t fl;

	if (!skip_blanks(line, len, &i))
		return RDNS_ENOTFOUND;
	if (!name_field(line, len, &i, rr->owner, &rr->owner_len))
		return RDNS_EINVAL;
	if (!skip_blanks(line, len, &i) || !u32_field(line, len, &i, &rr->ttl))
		return RDNS_EINVAL;
	if (!skip_blanks(line, len, &i))
		return RDNS_EINVAL;
	fl = word_field(line, len, &i, &f);
	if (!FIELD_IS(f, fl, "in") || !skip_blanks(line, len, &i))
		return RDNS_EINVAL;
	fl = word_field(line, len, &i, &f);
	if (FIELD_IS(f, fl, "ptr"))
		rr->type = ZG_TYPE_PTR;
	else if (FIELD_IS(f, fl, "ns"))
		rr->type = ZG_TYPE_NS;
	else if (FIELD_IS(f, fl, "soa"))
		rr->type = ZG_TYPE_SOA;
	else if (FIELD_IS(f, fl, "cname"))
		rr->type = ZG_TYPE_CNAME;
	else
		return RDNS_EINVAL;

	if (!skip_blanks(line, len, &i) || !name_field(line, len, &i, rr->name1, &rr->name1_len))
		return RDNS_EINVAL;
	rr->name2_len = 0;
	if (rr->type == ZG_TYPE_SOA) {
		if (!skip_blanks(line, len, &i) || !name_field(line, len, &i, rr->name2, &rr->name2_len))
			return RDNS_EINVAL;
		for (int k = 0; k < 5; k++)
			if (!skip_blanks(line, len, &i) || !u32_field(line, len, &i, &rr->soa[k]))
				return RDNS_EINVAL;
	}
	if (skip_blanks(line, len, &i))
		return RDNS_EINVAL; /* trailing junk (a comment is fine) */
	return RDNS_OK;
}

size_t zg_wire_zrr_maxlen(const zg_wire_zrr_t *rr)
{
	size_t n = rr->owner_len + 10 + rr->name1_len;
	if (rr->type == ZG_TYPE_SOA)
		n += rr->name2_len + 20;
	return n;
}

int zg_wire_msg_put_zrr(zg_wire_msg_t *m, int sec, const zg_wire_zrr_t *rr)
{
	size_t rdl;
	int rc = zg_wire_msg_rr_begin(m, rr->owner, rr->owner_len, rr->type, ZG_CLASS_IN, rr->ttl, &rdl);
	if (rc != RDNS_OK)
		return rc;
	/* RFC 3597 §4: NS, CNAME, SOA and PTR RDATA names may be compressed. */
	rc = zg_wire_msg_put_name(m, rr->name1, rr->name1_len, true);
	if (rc == RDNS_OK && rr->type == ZG_TYPE_SOA) {
		rc = zg_wire_msg_put_name(m, rr->name2, rr->name2_len, true);
		for (int k = 0; k < 5 && rc == RDNS_OK; k++)
			rc = zg_wire_msg_put32(m, rr->soa[k]);
	}
	if (rc != RDNS_OK)
		return rc;
	zg_wire_msg_rr_end(m, sec, rdl);
	return RDNS_OK;
}
