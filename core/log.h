/* log.h - leveled logging to stderr; messages start with their component. */
#ifndef RDNS_CORE_LOG_H
#define RDNS_CORE_LOG_H

enum { LOG_LVL_ERR = 0, LOG_LVL_WARN = 1, LOG_LVL_INFO = 2, LOG_LVL_DEBUG = 3 };

/* Set the most verbose level written (default info). */
void log_set_level(int level);
/* Parse "error", "warn", "info" or "debug"; -1 when unknown. */
int log_level_parse(const char *s);
int log_level(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)  log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                                       \
	do {                                                                                                 \
		if (log_level() >= LOG_LVL_DEBUG)                                                            \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                                 \
	} while (0)

#endif
