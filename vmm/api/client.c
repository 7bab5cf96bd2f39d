// SPDX-License-Identifier: GPL-2.0-only
/*
 * kite ctl SOCKET METHOD [JSON] [--fd N] [--wait EVENT] [--repeat N] [--timeout S]
 *
 * Sends one request (params JSON, and fd N with SCM_RIGHTS), prints the
 * reply line on stdout and exits 0, or 1 on an error reply. --wait EVENT then
 * also waits for that event (printing it), --repeat N sends the request N
 * times on one connection (every reply must succeed; the last is printed).
 * Usage errors exit 245, connection failures and timeouts 2.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/exitcode.h"

#define CTL_IO_FAIL 2

struct ctl {
	int fd;
	char buf[API_OUT_MAX];
	size_t len;
	int64_t deadline_ms;
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int ctl_usage(const char *why)
{
	fprintf(stderr,
		"kite ctl: %s\nusage: kite ctl SOCKET METHOD [JSON] [--fd N] [--wait EVENT] "
		"[--repeat N] [--timeout SECONDS]\n",
		why);
	return KITE_EXIT_USAGE;
}

static int ctl_send(struct ctl *c, const char *line, size_t len, int pass_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)line, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	while (iov.iov_len) {
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			fprintf(stderr, "kite ctl: send: %s\n", strerror(errno));
			return -1;
		}
		iov.iov_base = (char *)iov.iov_base + w;
		iov.iov_len -= (size_t)w;
		mh.msg_control = NULL; /* the fd went with the first byte */
		mh.msg_controllen = 0;
	}
	return 0;
}

/* Next line (malloc'd, without '\n'), or NULL on EOF / timeout (reported). */
static char *ctl_line(struct ctl *c)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int64_t left = c->deadline_ms - now_ms();
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			char *line = strndup(c->buf, n);

			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		if (c->len == sizeof(c->buf)) {
			fprintf(stderr, "kite ctl: reply line too long\n");
			return NULL;
		}
		if (left <= 0 || poll(&p, 1, (int)(left > 1000000 ? 1000000 : left)) == 0) {
			fprintf(stderr, "kite ctl: timed out\n");
			return NULL;
		}
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "kite ctl: connection closed%s%s\n", r < 0 ? ": " : "",
				r < 0 ? strerror(errno) : "");
			return NULL;
		}
		c->len += (size_t)r;
	}
}

/* Reads until the reply to @id (events are printed only if they are @wait). 0, 1, or 2. */
static int ctl_reply(struct ctl *c, long id, bool print)
{
	for (;;) {
		char *line = ctl_line(c);
		json_t *o, *jid;
		int ret;

		if (!line)
			return CTL_IO_FAIL;
		o = json_loads(line, 0, NULL);
		jid = json_object_get(o, "id");
		if (!o || json_object_get(o, "event") || !json_is_integer(jid) ||
		    json_integer_value(jid) != id) {
			/* An event, or a refusal without an id (too many clients, line too long). */
			if (o && !json_object_get(o, "event") && json_object_get(o, "error") &&
			    json_is_null(jid)) {
				puts(line);
				json_decref(o);
				free(line);
				return 1;
			}
			json_decref(o);
			free(line);
			continue;
		}
		ret = json_object_get(o, "error") ? 1 : 0;
		if (print || ret)
			puts(line);
		json_decref(o);
		free(line);
		return ret;
	}
}

static int ctl_wait_event(struct ctl *c, const char *name)
{
	for (;;) {
		char *line = ctl_line(c);
		json_t *o;
		bool hit;

		if (!line)
			return 1;
		o = json_loads(line, 0, NULL);
		hit = o && json_is_string(json_object_get(o, "event")) &&
		      !strcmp(json_string_value(json_object_get(o, "event")), name);
		if (hit)
			puts(line);
		json_decref(o);
		free(line);
		if (hit)
			return 0;
	}
}

int api_ctl_main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path, *method, *params = NULL, *wait = NULL;
	long repeat = 1, pass_fd = -1;
	double timeout = 60;
	json_t *req = NULL, *jp = NULL;
	struct ctl *c;
	int ret = 0;

	if (argc < 2)
		return ctl_usage("needs SOCKET and METHOD");
	path = argv[0];
	method = argv[1];
	for (int i = 2; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--fd") && i + 1 < argc) {
			pass_fd = strtol(argv[++i], &end, 10);
			if (*end || pass_fd < 0)
				return ctl_usage("--fd needs a descriptor number");
		} else if (!strcmp(argv[i], "--wait") && i + 1 < argc) {
			wait = argv[++i];
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = strtol(argv[++i], &end, 10);
			if (*end || repeat < 1 || repeat > 10000000)
				return ctl_usage("--repeat needs a count");
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout = strtod(argv[++i], &end);
			if (*end || !(timeout > 0))
				return ctl_usage("--timeout needs seconds");
		} else if (!params && argv[i][0] != '-') {
			params = argv[i];
		} else {
			return ctl_usage("unexpected argument");
		}
	}
	if (params) {
		json_error_t jerr;

		jp = json_loads(params, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(jp)) {
			json_decref(jp);
			return ctl_usage("JSON params must be an object");
		}
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		json_decref(jp);
		return ctl_usage("socket path too long");
	}
	memcpy(sa.sun_path, path, strlen(path));
	c = calloc(1, sizeof(*c));
	if (!c) {
		json_decref(jp);
		return CTL_IO_FAIL;
	}
	c->deadline_ms = now_ms() + (int64_t)(timeout * 1000);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "kite ctl: %s: %s\n", path, strerror(errno));
		ret = CTL_IO_FAIL;
		goto out;
	}
	for (long i = 1; i <= repeat && !ret; i++) {
		size_t len;
		char *line;

		req = json_pack("{s:I, s:s}", "id", (json_int_t)i, "method", method);
		if (jp)
			json_object_set(req, "params", jp);
		line = req ? json_dumps(req, JSON_COMPACT) : NULL;
		json_decref(req);
		if (!line) {
			ret = CTL_IO_FAIL;
			break;
		}
		len = strlen(line);
		line[len] = '\n'; /* json_dumps's NUL becomes the line end; not sent as a string */
		ret = ctl_send(c, line, len + 1, i == 1 ? (int)pass_fd : -1) ? CTL_IO_FAIL : 0;
		free(line);
		if (!ret)
			ret = ctl_reply(c, i, i == repeat);
	}
	if (!ret && wait)
		ret = ctl_wait_event(c, wait);
out:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	json_decref(jp);
	return ret;
}
