/* log.h - the one log sink of every daemon: leveled, one line per event, each line
 * starting with its component ("notify: zone 2.0.192.in-addr.arpa: ..."). */
#ifndef RDNS_CORE_LOG_H
#define RDNS_CORE_LOG_H

#include <stdint.h>

enum { LOG_LVL_ERR = 0, LOG_LVL_WARN = 1, LOG_LVL_INFO = 2, LOG_LVL_DEBUG = 3 };

/* Set the most verbose level written (default info). */
void log_set_level(int level);
/* Parse "error", "warn", "info" or "debug"; -1 when unknown. */
int log_level_parse(const char *s);
int log_level(void);

/* Where lines go: NULL (the default) writes "<UTC time> <level>: <message>\n" to
 * stderr; a sink gets the level and the message without time or newline (tests
 * capture lines this way). Called from any thread; a sink must be thread-safe. */
typedef void (*log_sink_t)(int level, const char *msg, void *arg);
void log_set_sink(log_sink_t sink, void *arg);

/* The HTTP request this thread works for now (NULL or "": none): every line it logs
 * meanwhile ends with " request <id>", so that all lines about a request can be found
 * by its X-Request-Id. */
void log_set_request(const char *id);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<component>: zone <zone>: <message>", the zone without its trailing dot. */
void log_zone_msg(int level, const char *component, const char *zone, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "<component>: zone <zone> serial <serial>: <message>": an event about one
 * serial of a zone (a NOTIFY of it), the zone as in log_zone_msg. */
void log_zone_serial_msg(int level, const char *component, const char *zone, uint32_t serial, const char *fmt,
                         ...) __attribute__((format(printf, 5, 6)));
/* "<component>: <method> <path>: <message>" for an HTTP request. */
void log_req_msg(int level, const char *component, const char *method, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define log_err(...)  log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                                       \
	do {                                                                                                 \
		if (log_level() >= LOG_LVL_DEBUG)                                                            \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                                 \
	} while (0)

/* log_zone_err("render", "2.0.192.in-addr.arpa.", "cannot write %s: %s", path, strerror(e)) */
#define log_zone_err(component, zone, ...)  log_zone_msg(LOG_LVL_ERR, component, zone, __VA_ARGS__)
#define log_zone_warn(component, zone, ...) log_zone_msg(LOG_LVL_WARN, component, zone, __VA_ARGS__)
#define log_zone_info(component, zone, ...) log_zone_msg(LOG_LVL_INFO, component, zone, __VA_ARGS__)
#define log_zone_debug(component, zone, ...)                                                                 \
	do {                                                                                                 \
		if (log_level() >= LOG_LVL_DEBUG)                                                            \
			log_zone_msg(LOG_LVL_DEBUG, component, zone, __VA_ARGS__);                           \
	} while (0)

/* log_zone_serial_info("notify", "2.0.192.in-addr.arpa.", 2026120101, "%s: acknowledged", target) */
#define log_zone_serial_err(component, zone, serial, ...)                                                    \
	log_zone_serial_msg(LOG_LVL_ERR, component, zone, serial, __VA_ARGS__)
#define log_zone_serial_warn(component, zone, serial, ...)                                                   \
	log_zone_serial_msg(LOG_LVL_WARN, component, zone, serial, __VA_ARGS__)
#define log_zone_serial_info(component, zone, serial, ...)                                                   \
	log_zone_serial_msg(LOG_LVL_INFO, component, zone, serial, __VA_ARGS__)
#define log_zone_serial_debug(component, zone, serial, ...)                                                  \
	do {                                                                                                 \
		if (log_level() >= LOG_LVL_DEBUG)                                                            \
			log_zone_serial_msg(LOG_LVL_DEBUG, component, zone, serial, __VA_ARGS__);            \
	} while (0)

#define log_req_err(component, method, path, ...)                                                            \
	log_req_msg(LOG_LVL_ERR, component, method, path, __VA_ARGS__)
#define log_req_warn(component, method, path, ...)                                                           \
	log_req_msg(LOG_LVL_WARN, component, method, path, __VA_ARGS__)
#define log_req_info(component, method, path, ...)                                                           \
	log_req_msg(LOG_LVL_INFO, component, method, path, __VA_ARGS__)

#endif
