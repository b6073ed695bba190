/* log.c - the one log sink: leveled, one line per message, thread-safe. */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int cur_level = LOG_LVL_INFO;
static log_sink_t cur_sink;
static void *cur_sink_arg;
static const char *const names[] = {"error", "warn", "info", "debug"};
static _Thread_local char tl_request[80]; /* " request <id>", or "" */

void log_set_request(const char *id)
{
	if (id && *id)
		snprintf(tl_request, sizeof(tl_request), " request %s", id);
	else
		tl_request[0] = 0;
}

void log_set_level(int level)
{
	cur_level = level;
}

int log_level(void)
{
	return cur_level;
}

void log_set_sink(log_sink_t sink, void *arg)
{
	cur_sink_arg = arg;
	cur_sink = sink;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

/* One line from a prefix (already formatted) and the caller's format. */
static void emit(int level, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void emit(int level, const char *prefix, const char *fmt, va_list ap)
{
	if (level > cur_level)
		return;
	char line[2048];
	int n = 0;
	if (cur_sink == NULL) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ %s: ", ts.tv_nsec / 1000000,
		              names[level < 0   ? 0
		                    : level > 3 ? 3
		                                : level]);
	}
	size_t start = (size_t)n;
	int p = snprintf(line + n, sizeof(line) - (size_t)n - 1, "%s", prefix);
	n += p < 0 ? 0 : p;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	if (tl_request[0]) {
		size_t rl = strlen(tl_request);
		if (len + rl > sizeof(line) - 2)
			len = sizeof(line) - 2 - rl;
		memcpy(line + len, tl_request, rl);
		len += rl;
	}
	if (cur_sink != NULL) {
		line[len] = '\0';
		cur_sink(level, line + start, cur_sink_arg);
		return;
	}
	line[len++] = '\n';
	fwrite(line, 1, len, stderr);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(level, "", fmt, ap);
	va_end(ap);
}

/* "<component>: zone <zone>" and then tail, the zone without its trailing dot. */
static void zone_prefix(char *prefix, size_t len, const char *component, const char *zone, const char *tail)
{
	size_t zl = zone ? strlen(zone) : 0;
	if (zl > 1 && zone[zl - 1] == '.')
		zl--;
	snprintf(prefix, len, "%s: zone %.*s%s", component, (int)(zl > 255 ? 255 : zl), zone ? zone : "",
	         tail);
}

void log_zone_msg(int level, const char *component, const char *zone, const char *fmt, ...)
{
	char prefix[320];
	zone_prefix(prefix, sizeof(prefix), component, zone, ": ");
	va_list ap;
	va_start(ap, fmt);
	emit(level, prefix, fmt, ap);
	va_end(ap);
}

void log_zone_serial_msg(int level, const char *component, const char *zone, uint32_t serial, const char *fmt,
                         ...)
{
	char prefix[340], tail[24];
	snprintf(tail, sizeof(tail), " serial %" PRIu32 ": ", serial);
	zone_prefix(prefix, sizeof(prefix), component, zone, tail);
	va_list ap;
	va_start(ap, fmt);
	emit(level, prefix, fmt, ap);
	va_end(ap);
}

void log_req_msg(int level, const char *component, const char *method, const char *path, const char *fmt, ...)
{
	char prefix[320];
	snprintf(prefix, sizeof(prefix), "%s: %s %.200s: ", component, method ? method : "-",
	         path ? path : "-");
	va_list ap;
	va_start(ap, fmt);
	emit(level, prefix, fmt, ap);
	va_end(ap);
}
