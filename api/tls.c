/* tls.c - GnuTLS for rdns-api: credentials from PEM files, non-blocking server sessions.
 *
 * The sessions are GNUTLS_NONBLOCK on the workers' epoll sockets; their transport
 * functions read first what server.c read before TLS began (the bytes after a PROXY
 * header), then the socket. No GnuTLS timeout is set: server.c's deadlines cover the
 * handshake (api_request_timeout_ms from the accept) and every request after it. */
#include "api/tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"

#define PEM_MAX (1024 * 1024)

struct api_tls_creds {
	atomic_long refs;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	char describe[512];
};

struct api_tls {
	gnutls_session_t s;
	api_tls_creds_t *cr;
	int fd;
	bool ready;
	bool owed; /* a send_aside returned EAGAIN: finished by the next send */
	int last_err;
	char *pre; /* bytes read before TLS began */
	size_t pre_len, pre_off;
};

bool api_tls_configured(const rdns_conf_t *conf)
{
	return conf->api_tls_cert && conf->api_tls_cert[0] && conf->api_tls_key && conf->api_tls_key[0];
}

/* The whole file, NUL-terminated; false with a message. */
static bool read_pem(const char *opt, const char *path, gnutls_datum_t *d, char *msg, size_t len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f) {
		snprintf(msg, len, "%s '%s': cannot read: %s", opt, path, strerror(errno));
		return false;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > PEM_MAX) {
		snprintf(msg, len, "%s '%s': not a regular file of at most %d bytes", opt, path, PEM_MAX);
		fclose(f);
		return false;
	}
	d->data = malloc((size_t)st.st_size + 1);
	if (!d->data) {
		snprintf(msg, len, "%s '%s': out of memory", opt, path);
		fclose(f);
		return false;
	}
	size_t n = fread(d->data, 1, (size_t)st.st_size, f);
	bool err = ferror(f);
	int e = errno;
	fclose(f);
	if (err) {
		snprintf(msg, len, "%s '%s': cannot read: %s", opt, path, strerror(e));
		free(d->data);
		d->data = NULL;
		return false;
	}
	d->data[n] = 0;
	d->size = (unsigned)n;
	return true;
}

/* The leaf's subject and expiry; false (message) when the chain is not PEM certificates. */
static bool describe_chain(const rdns_conf_t *conf, const gnutls_datum_t *cd, api_tls_creds_t *cr, char *msg,
                           size_t len)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int rc = gnutls_x509_crt_list_import2(&crts, &n, cd, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || n == 0) {
		snprintf(msg, len, "api_tls_cert '%s': not a PEM certificate (chain): %s", conf->api_tls_cert,
		         rc < 0 ? gnutls_strerror(rc) : "no certificate in it");
		if (rc >= 0)
			gnutls_free(crts);
		return false;
	}
	gnutls_datum_t dn = {NULL, 0};
	time_t exp = gnutls_x509_crt_get_expiration_time(crts[0]);
	char when[32] = "?";
	struct tm tm;
	if (exp != (time_t)-1 && gmtime_r(&exp, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (gnutls_x509_crt_get_dn3(crts[0], &dn, 0) < 0)
		dn.data = NULL;
	snprintf(cr->describe, sizeof(cr->describe), "subject '%s', %u certificate(s), expires %s%s",
	         dn.data ? (const char *)dn.data : "?", n, when,
	         exp != (time_t)-1 && exp < time(NULL) ? " (EXPIRED)" : "");
	gnutls_free(dn.data);
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return true;
}

static void creds_free(api_tls_creds_t *cr)
{
	if (!cr)
		return;
	if (cr->cred)
		gnutls_certificate_free_credentials(cr->cred);
	if (cr->prio)
		gnutls_priority_deinit(cr->prio);
	free(cr);
}

api_tls_creds_t *api_tls_creds_load(const rdns_conf_t *conf, char *msg, size_t len)
{
	gnutls_datum_t cd = {NULL, 0}, kd = {NULL, 0};
	gnutls_x509_privkey_t key = NULL;
	api_tls_creds_t *cr = calloc(1, sizeof(*cr));
	bool ok = false;
	int rc;
	if (!cr) {
		snprintf(msg, len, "TLS: out of memory");
		return NULL;
	}
	atomic_init(&cr->refs, 1);
	const char *pos = NULL;
	rc = gnutls_priority_init2(&cr->prio, conf->api_tls_priority, &pos, 0);
	if (rc < 0) {
		snprintf(msg, len, "api_tls_priority '%s': %s (at '%s')", conf->api_tls_priority,
		         gnutls_strerror(rc), pos ? pos : "");
		cr->prio = NULL;
		goto out;
	}
	if (!read_pem("api_tls_cert", conf->api_tls_cert, &cd, msg, len) ||
	    !read_pem("api_tls_key", conf->api_tls_key, &kd, msg, len))
		goto out;
	if (!describe_chain(conf, &cd, cr, msg, len))
		goto out;
	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_import2(key, &kd, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN)) < 0) {
		snprintf(msg, len, "api_tls_key '%s': not an unencrypted PEM private key: %s",
		         conf->api_tls_key, gnutls_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_certificate_allocate_credentials(&cr->cred)) < 0) {
		snprintf(msg, len, "TLS: %s", gnutls_strerror(rc));
		cr->cred = NULL;
		goto out;
	}
	/* GnuTLS checks here that the key is the certificate's */
	rc = gnutls_certificate_set_x509_key_mem2(cr->cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		snprintf(msg, len, "api_tls_key '%s' and api_tls_cert '%s': %s", conf->api_tls_key,
		         conf->api_tls_cert, gnutls_strerror(rc));
		goto out;
	}
	ok = true;
out:
	if (key)
		gnutls_x509_privkey_deinit(key);
	free(cd.data);
	if (kd.data) {
		gnutls_memset(kd.data, 0, kd.size);
		free(kd.data);
	}
	if (!ok) {
		creds_free(cr);
		return NULL;
	}
	return cr;
}

const char *api_tls_creds_describe(const api_tls_creds_t *cr)
{
	return cr->describe;
}

void api_tls_creds_ref(api_tls_creds_t *cr)
{
	atomic_fetch_add(&cr->refs, 1);
}

void api_tls_creds_unref(api_tls_creds_t *cr)
{
	if (cr && atomic_fetch_sub(&cr->refs, 1) == 1) {
		log_debug("http: TLS credentials freed, no connection uses them any more: %s", cr->describe);
		creds_free(cr);
	}
}

int api_tls_conf_check(const rdns_conf_t *conf, char *msg, size_t len)
{
	if (!api_tls_configured(conf))
		return RDNS_OK;
	api_tls_creds_t *cr = api_tls_creds_load(conf, msg, len);
	if (!cr)
		return RDNS_ECONFIG;
	api_tls_creds_unref(cr);
	return RDNS_OK;
}

/* --- sessions ----------------------------------------------------------------------- */

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	api_tls_t *t = p;
	if (t->pre_off < t->pre_len) {
		size_t n = t->pre_len - t->pre_off;
		if (n > len)
			n = len;
		memcpy(buf, t->pre + t->pre_off, n);
		t->pre_off += n;
		if (t->pre_off == t->pre_len) {
			free(t->pre);
			t->pre = NULL;
			t->pre_len = t->pre_off = 0;
		}
		return (ssize_t)n;
	}
	ssize_t n = recv(t->fd, buf, len, 0);
	if (n < 0)
		gnutls_transport_set_errno(t->s, errno);
	return n;
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	api_tls_t *t = p;
	ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);
	if (n < 0)
		gnutls_transport_set_errno(t->s, errno);
	return n;
}

static int tls_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	api_tls_t *t = p;
	if (t->pre_off < t->pre_len)
		return 1;
	struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
	/* the sessions are non-blocking: never wait on a worker */
	int rc = poll(&pfd, 1, 0);
	(void)ms;
	return rc < 0 ? -1 : rc;
}

api_tls_t *api_tls_new(api_tls_creds_t *cr, int fd)
{
	api_tls_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->fd = fd;
	if (gnutls_init(&t->s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
		free(t);
		return NULL;
	}
	static const gnutls_datum_t alpn = {(unsigned char *)"http/1.1", 8};
	if (gnutls_priority_set(t->s, cr->prio) < 0 ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, cr->cred) < 0 ||
	    gnutls_alpn_set_protocols(t->s, &alpn, 1, GNUTLS_ALPN_SERVER_PRECEDENCE) < 0) {
		gnutls_deinit(t->s);
		free(t);
		return NULL;
	}
	gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_IGNORE);
	gnutls_handshake_set_timeout(t->s, GNUTLS_INDEFINITE_TIMEOUT);
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_pull_function(t->s, tls_pull);
	gnutls_transport_set_push_function(t->s, tls_push);
	gnutls_transport_set_pull_timeout_function(t->s, tls_pull_timeout);
	api_tls_creds_ref(cr);
	t->cr = cr;
	return t;
}

void api_tls_free(api_tls_t *t)
{
	if (!t)
		return;
	gnutls_deinit(t->s);
	api_tls_creds_unref(t->cr);
	free(t->pre);
	free(t);
}

bool api_tls_prebuffer(api_tls_t *t, const char *data, size_t len)
{
	if (!len)
		return true;
	char *n = realloc(t->pre, t->pre_len + len);
	if (!n)
		return false;
	memcpy(n + t->pre_len, data, len);
	t->pre = n;
	t->pre_len += len;
	return true;
}

bool api_tls_ready(const api_tls_t *t)
{
	return t->ready;
}

int api_tls_handshake(api_tls_t *t, const char **why)
{
	for (int i = 0; i < 16; i++) {
		int rc = gnutls_handshake(t->s);
		if (rc == GNUTLS_E_SUCCESS) {
			t->ready = true;
			return API_TLS_DONE;
		}
		if (rc == GNUTLS_E_AGAIN)
			return API_TLS_AGAIN;
		t->last_err = rc;
		if (rc == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(rc))
			continue; /* a warning alert: go on */
		*why = gnutls_strerror(rc);
		return API_TLS_FAILED;
	}
	*why = "too many warnings";
	return API_TLS_FAILED;
}

ssize_t api_tls_recv(api_tls_t *t, char *buf, size_t len)
{
	for (int i = 0; i < 16; i++) {
		ssize_t n = gnutls_record_recv(t->s, buf, len);
		if (n >= 0)
			return n;
		if (n == GNUTLS_E_AGAIN) {
			errno = EAGAIN;
			return -1;
		}
		t->last_err = (int)n;
		if (n == GNUTLS_E_INTERRUPTED ||
		    (!gnutls_error_is_fatal((int)n) && n != GNUTLS_E_REHANDSHAKE))
			continue;
		/* GNUTLS_E_PREMATURE_TERMINATION: the peer closed without close_notify */
		errno = n == GNUTLS_E_PREMATURE_TERMINATION ? ECONNRESET : EPROTO;
		return n == GNUTLS_E_PREMATURE_TERMINATION ? 0 : -1;
	}
	errno = EPROTO;
	return -1;
}

ssize_t api_tls_send(api_tls_t *t, const char *buf, size_t len)
{
	for (;;) {
		ssize_t n = t->owed ? gnutls_record_send(t->s, NULL, 0) : gnutls_record_send(t->s, buf, len);
		if (n >= 0) {
			if (!t->owed)
				return n;
			t->owed = false;
			continue;
		}
		if (n == GNUTLS_E_AGAIN) {
			errno = EAGAIN;
			return -1;
		}
		if (n == GNUTLS_E_INTERRUPTED)
			continue;
		t->last_err = (int)n;
		errno = EPIPE;
		return -1;
	}
}

void api_tls_send_aside(api_tls_t *t, const char *buf, size_t len)
{
	if (t->owed)
		return;
	ssize_t n = gnutls_record_send(t->s, buf, len);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		t->owed = true;
}

bool api_tls_want_write(const api_tls_t *t)
{
	return gnutls_record_get_direction(t->s) == 1;
}

bool api_tls_pending(const api_tls_t *t)
{
	return t->ready && gnutls_record_check_pending(t->s) > 0;
}

void api_tls_bye(api_tls_t *t)
{
	if (t->ready && !t->owed)
		(void)gnutls_bye(t->s, GNUTLS_SHUT_WR);
}

const char *api_tls_last_error(const api_tls_t *t)
{
	return t->last_err ? gnutls_strerror(t->last_err) : "";
}
