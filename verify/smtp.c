/* smtp.c - the helo diagnostic's SMTP exchange: connect, read the greeting, EHLO, QUIT, under a deadline. */
#include "verify/smtp.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "verify/resolve.h"

/* Longest SMTP reply read (all its lines). */
#define SMTP_REPLY_MAX 8192

/* Read one whole SMTP reply (its last line "NNN text") before the deadline.
 * Returns 1 with the first line's code and name and the last line in o->line,
 * 0 on timeout, -1 when the server closed first, -2 when it is not SMTP. */
static int smtp_reply(int fd, int64_t deadline_us, char *buf, size_t len, vf_diag_helo_t *o, char *name,
                      size_t name_len)
{
	size_t got = 0, line_start = 0;
	bool first = true;

	for (;;) {
		char *nl;
		while ((nl = memchr(buf + line_start, '\n', got - line_start)) != NULL) {
			*nl = '\0';
			char *line = buf + line_start;
			int code;
			bool more;
			char nm[256];

			line_start = (size_t)(nl - buf) + 1;
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0'; /* CRLF, RFC 5321 2.3.8 */
			vf_diag_printable(o->line, sizeof(o->line), line);
			if (!vf_smtp_reply_line(line, &code, &more, nm, sizeof(nm)))
				return -2;
			if (first) {
				o->code = code;
				snprintf(name, name_len, "%s", nm);
				first = false;
			}
			if (!more) {
				o->code = code;
				return 1;
			}
		}
		if (got + 1 >= len)
			return -2;
		int64_t left = deadline_us - vf_resolve_now_us();
		if (left <= 0)
			return 0;
		struct pollfd p = {fd, POLLIN, 0};
		int pr = poll(&p, 1, (int)((left + 999) / 1000));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return 0;
		ssize_t n = recv(fd, buf + got, len - 1 - got, 0);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
}

static bool smtp_send(int fd, int64_t deadline_us, const char *s)
{
	size_t len = strlen(s), sent = 0;

	while (sent < len) {
		ssize_t w = send(fd, s + sent, len - sent, MSG_NOSIGNAL);
		if (w > 0) {
			sent += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		int64_t left = deadline_us - vf_resolve_now_us();
		struct pollfd p = {fd, POLLOUT, 0};
		if (left <= 0 || poll(&p, 1, (int)((left + 999) / 1000)) <= 0)
			return false;
	}
	return true;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]": the local address of fd (RFC 5321 4.1.3). */
static void ehlo_literal(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	core_addr_t a = {0};
	char t[CORE_ADDR_STRLEN];

	snprintf(buf, len, "[127.0.0.1]");
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		a.family = CORE_AF_INET;
		memcpy(a.b, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		a.family = CORE_AF_INET6;
		memcpy(a.b, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	} else {
		return;
	}
	if (core_addr_format(&a, t, sizeof(t)) == RDNS_OK)
		snprintf(buf, len, a.family == CORE_AF_INET ? "[%s]" : "[IPv6:%s]", t);
}

void vf_smtp_probe(const core_addr_t *ip, int64_t deadline_us, vf_diag_helo_t *o)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char *buf = malloc(SMTP_REPLY_MAX);
	char ehlo[300], me[256];
	int fd = -1, rc;

	memset(&ss, 0, sizeof(ss));
	if (!buf) {
		o->kind = VF_HELO_UNREACHABLE;
		o->err = ENOMEM;
		return;
	}
	if (ip->family == CORE_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)o->port);
		memcpy(&in->sin_addr, ip->b, 4);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)o->port);
		memcpy(&in6->sin6_addr, ip->b, 16);
		sl = sizeof(*in6);
	}
	o->stage = "connect";
	o->kind = VF_HELO_TIMEOUT;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		o->kind = VF_HELO_UNREACHABLE;
		o->err = errno;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 && errno != EINPROGRESS) {
		o->err = errno;
		o->kind = errno == ECONNREFUSED ? VF_HELO_REFUSED : VF_HELO_UNREACHABLE;
		goto out;
	}
	{
		int64_t left = deadline_us - vf_resolve_now_us();
		struct pollfd p = {fd, POLLOUT, 0};
		int soerr = 0;
		socklen_t el = sizeof(soerr);
		if (left <= 0 || poll(&p, 1, (int)((left + 999) / 1000)) <= 0)
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) != 0 || soerr != 0) {
			o->err = soerr ? soerr : errno;
			o->kind = o->err == ECONNREFUSED ? VF_HELO_REFUSED : VF_HELO_UNREACHABLE;
			goto out;
		}
	}
	o->stage = "greeting";
	rc = smtp_reply(fd, deadline_us, buf, SMTP_REPLY_MAX, o, o->banner_name, sizeof(o->banner_name));
	if (rc <= 0) {
		o->kind = rc == 0 ? VF_HELO_TIMEOUT : rc == -1 ? VF_HELO_CLOSED : VF_HELO_GARBLED;
		goto out;
	}
	if (o->code != 220) {
		o->kind = VF_HELO_REJECTED;
		goto out;
	}
	/* RFC 5321 4.1.1.1: EHLO with our fully qualified name, else (4.1.3) the address
	 * literal of our end of the connection */
	if (gethostname(me, sizeof(me) - 1) != 0 || !strchr(me, '.'))
		ehlo_literal(fd, me, sizeof(me));
	me[sizeof(me) - 1] = '\0';
	snprintf(ehlo, sizeof(ehlo), "EHLO %s\r\n", me);
	o->stage = "EHLO";
	if (!smtp_send(fd, deadline_us, ehlo)) {
		o->kind = VF_HELO_CLOSED;
		goto out;
	}
	rc = smtp_reply(fd, deadline_us, buf, SMTP_REPLY_MAX, o, o->ehlo_name, sizeof(o->ehlo_name));
	if (rc <= 0) {
		o->kind = rc == 0 ? VF_HELO_TIMEOUT : rc == -1 ? VF_HELO_CLOSED : VF_HELO_GARBLED;
		goto out;
	}
	if (o->code != 250) {
		o->kind = VF_HELO_REJECTED;
		goto out;
	}
	o->kind = VF_HELO_OK;
	(void)smtp_send(fd, deadline_us, "QUIT\r\n"); /* its answer is not waited for */
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}
