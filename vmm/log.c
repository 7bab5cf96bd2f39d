// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level current_level = LOG_WARN;

/*
 * A hostile guest can trigger warnings at will (every malformed virtqueue
 * chain is one), so warnings are limited to a burst per second; errors and
 * explicitly requested debug output are never dropped.
 */
#define WARN_BURST 20
static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t warn_second;
static unsigned int warn_count, warn_dropped;

/* Returns how many earlier warnings were dropped (to report), or -1 to drop this one. */
static long warn_admit(void)
{
	struct timespec now;
	long report = 0;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	pthread_mutex_lock(&warn_lock);
	if (now.tv_sec != warn_second) {
		warn_second = now.tv_sec;
		warn_count = 0;
		report = warn_dropped;
		warn_dropped = 0;
	}
	if (warn_count >= WARN_BURST) {
		warn_dropped++;
		report = -1;
	} else {
		warn_count++;
	}
	pthread_mutex_unlock(&warn_lock);
	return report;
}

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

int log_parse_level(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

/* Per thread: the control API quotes the main thread's boot failure in its reply. */
static __thread char last_error[512];

const char *log_last_error(void)
{
	return last_error;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const tags[] = { "error", "warn", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (level == LOG_ERROR) {
		va_start(ap, fmt);
		vsnprintf(last_error, sizeof(last_error), fmt, ap);
		va_end(ap);
	}
	if (level > current_level)
		return;
	if (level == LOG_WARN) {
		long dropped = warn_admit();

		if (dropped < 0)
			return;
		if (dropped > 0)
			fprintf(stderr,
				"kite: warn: %ld warnings suppressed (more than %d a second)\n",
				dropped, WARN_BURST);
	}
	n = snprintf(line, sizeof(line), "kite: %s: ", tags[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One write per line so lines from different threads do not interleave. */
	strcat(line, "\n");
	fputs(line, stderr);
}
