/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KITE_VMM_LOG_H
#define KITE_VMM_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/*
 * The logger is process-wide on purpose, the one exception to "no global mutable state":
 * its output, stderr, is one per process, and so is the budget that protects it. The
 * warning rate limiter (vmm/log.c) guards that shared fd against a guest flooding it, which
 * only works if every source of warnings (each VM in a test process, the API thread, the
 * config parser before any VM exists) draws from the same budget; a per-VM limiter would
 * let N VMs write N times the rate. The level is set once by main() before any thread
 * starts; tests that build several VMs log at one level anyway. Nothing else in the logger
 * carries state between VMs (the last-error buffer is per thread).
 */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 on anything else. */
int log_parse_level(const char *s);

/* The last error line this thread logged (without "kite: error: "), "" if none. */
const char *log_last_error(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
