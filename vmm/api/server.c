// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's thread: a unix stream socket, JSON lines, SCM_RIGHTS.
 * One epoll loop serves every client with non-blocking I/O and bounded
 * buffers, so a client that stalls, floods or disappears costs only its own
 * connection; the VM never waits for a client.
 *
 * Locks: `lock` guards the dispatcher core and the VM pointer (the API
 * thread holds it while a request runs, the main thread to attach or detach
 * the VM); `qlock` guards only the outgoing message queue, which VM threads
 * fill (boot timer, panic) and which must never wait for `lock`, since a
 * request such as pause holds `lock` while it waits for the vCPUs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/api/core.h"
#include "vmm/api/internal.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/seccomp.h"

#define READ_CHUNK (64u << 10)
#define STOP_FLUSH_MS 500

struct api_client {
	int fd;
	uint64_t serial;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off, out_cap;
	struct api_fdq fdq;
	bool want_out; /* EPOLLOUT armed */
	bool closing;  /* close once the output is flushed (or at once if it cannot be) */
};

static char tag_listen, tag_wake;

static void client_free(struct api_client *cl)
{
	for (unsigned int i = 0; i < cl->fdq.n; i++)
		close(cl->fdq.fd[i]);
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	free(cl);
}

static void client_drop(struct api *api, unsigned int slot, const char *why)
{
	struct api_client *cl = api->clients[slot];

	if (why)
		log_warn("API: client %llu disconnected: %s", (unsigned long long)cl->serial, why);
	epoll_ctl(api->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	client_free(cl);
	api->clients[slot] = NULL;
}

static void client_arm(struct api *api, struct api_client *cl, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = cl };

	if (cl->want_out == out)
		return;
	cl->want_out = out;
	epoll_ctl(api->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
}

/* Writes what it can; false if the connection is broken. */
static bool client_flush(struct api *api, struct api_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t w = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				client_arm(api, cl, true);
				return true;
			}
			return false;
		}
		cl->out_off += (size_t)w;
	}
	cl->out_off = cl->out_len = 0;
	client_arm(api, cl, false);
	return true;
}

/* Queues @line for @cl; false if the client is too far behind (it is then dropped). */
static bool client_send(struct api *api, struct api_client *cl, const char *line, size_t len)
{
	size_t pending = cl->out_len - cl->out_off;

	if (pending + len > API_OUT_MAX)
		return false;
	if (cl->out_off && cl->out_len + len > cl->out_cap) {
		memmove(cl->out, cl->out + cl->out_off, pending);
		cl->out_len = pending;
		cl->out_off = 0;
	}
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *p;

		while (cap < cl->out_len + len)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p)
			return false;
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, line, len);
	cl->out_len += len;
	return client_flush(api, cl);
}

static void send_to(struct api *api, unsigned int slot, const char *line, size_t len)
{
	if (api->clients[slot] && !client_send(api, api->clients[slot], line, len))
		client_drop(api, slot, "not reading its replies (output buffer full) or gone");
}

static void send_obj(struct api *api, unsigned int slot, json_t *obj)
{
	size_t len;
	char *line = api_line(obj, &len);

	if (line)
		send_to(api, slot, line, len);
	free(line);
}

void api_queue(struct api *api, uint64_t serial, json_t *obj, double boot_ms)
{
	struct api_msg *m = calloc(1, sizeof(*m)), **tail;
	uint64_t one = 1;

	if (!m || !(m->line = api_line(obj, &m->len))) {
		free(m);
		return;
	}
	m->serial = serial;
	m->boot_ms = boot_ms;
	pthread_mutex_lock(&api->qlock);
	for (tail = &api->queue; *tail; tail = &(*tail)->next)
		;
	*tail = m;
	pthread_mutex_unlock(&api->qlock);
	if (write(api->wake_efd, &one, sizeof(one)) < 0)
		log_debug("API: wake: %s", strerror(errno));
}

static void drain_queue(struct api *api)
{
	struct api_msg *m;
	uint64_t v;

	if (read(api->wake_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("API: wake read: %s", strerror(errno));
	pthread_mutex_lock(&api->qlock);
	m = api->queue;
	api->queue = NULL;
	pthread_mutex_unlock(&api->qlock);
	while (m) {
		struct api_msg *next = m->next;

		if (m->boot_ms >= 0) {
			pthread_mutex_lock(&api->lock);
			api->core.boot_ms = m->boot_ms;
			pthread_mutex_unlock(&api->lock);
		}
		for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
			if (api->clients[i] && (!m->serial || api->clients[i]->serial == m->serial))
				send_to(api, i, m->line, m->len);
		free(m->line);
		free(m);
		m = next;
	}
}

static void accept_clients(struct api *api)
{
	for (;;) {
		int fd = accept4(api->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		struct api_client *cl;
		struct epoll_event ev = { .events = EPOLLIN };
		unsigned int slot;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("API: accept: %s", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
		    cred.uid != api->uid) {
			log_warn("API: refused a client with uid %d (only uid %u is served)",
				 clen == sizeof(cred) ? (int)cred.uid : -1, api->uid);
			close(fd);
			continue;
		}
		for (slot = 0; slot < API_MAX_CLIENTS && api->clients[slot]; slot++)
			;
		cl = slot < API_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
		if (!cl) {
			size_t len;
			char *line = api_line(api_error(NULL, API_E_CLIENTS, "at most %d clients",
							API_MAX_CLIENTS),
					      &len);

			log_warn("API: refused a client: %d clients already connected",
				 API_MAX_CLIENTS);
			if (line && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("API: refusal: %s", strerror(errno));
			free(line);
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->serial = ++api->next_serial;
		ev.data.ptr = cl;
		if (epoll_ctl(api->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_warn("API: cannot watch a client: %s", strerror(errno));
			client_free(cl);
			continue;
		}
		api->clients[slot] = cl;
		log_debug("API: client %llu connected", (unsigned long long)cl->serial);
	}
}

static void handle_line(struct api *api, unsigned int slot, char *line, size_t len)
{
	struct api_client *cl = api->clients[slot];
	json_t *reply, *deferred = NULL;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return;
	pthread_mutex_lock(&api->lock);
	reply = api_core_handle(&api->core, line, len, &cl->fdq, &deferred);
	if (deferred) {
		json_decref(api->boot_id);
		api->boot_id = deferred;
		api->boot_serial = cl->serial;
	}
	pthread_mutex_unlock(&api->lock);
	if (reply)
		send_obj(api, slot, reply);
}

static void read_client(struct api *api, unsigned int slot)
{
	struct api_client *cl = api->clients[slot];
	char cbuf[CMSG_SPACE(sizeof(int) * API_MAX_QUEUED_FDS)];
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	size_t start = 0;
	ssize_t r;

	if (cl->in_cap - cl->in_len < READ_CHUNK) {
		size_t cap = cl->in_len + READ_CHUNK;
		char *p = realloc(cl->in, cap);

		if (!p) {
			client_drop(api, slot, "out of memory");
			return;
		}
		cl->in = p;
		cl->in_cap = cap;
	}
	iov = (struct iovec){ .iov_base = cl->in + cl->in_len, .iov_len = READ_CHUNK };
	r = recvmsg(cl->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (struct cmsghdr *c = r >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		size_t n;
		int *fds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, fds + i, sizeof(fd));
			if (cl->fdq.n < API_MAX_QUEUED_FDS)
				cl->fdq.fd[cl->fdq.n++] = fd;
			else
				close(fd); /* more than anyone could claim: not ours to keep */
		}
	}
	if (r <= 0) {
		client_drop(api, slot, NULL); /* EOF or reset: a normal goodbye */
		return;
	}
	cl->in_len += (size_t)r;
	for (;;) {
		char *nl = memchr(cl->in + start, '\n', cl->in_len - start);

		if (!nl)
			break;
		handle_line(api, slot, cl->in + start, (size_t)(nl - (cl->in + start)));
		if (!api->clients[slot])
			return; /* dropped while replying */
		start = (size_t)(nl - cl->in) + 1;
	}
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len > API_LINE_MAX) {
		send_obj(api, slot,
			 api_error(NULL, API_E_LINE, "request line longer than %u bytes",
				   API_LINE_MAX));
		if (api->clients[slot])
			client_drop(api, slot, "request line too long");
		return;
	}
	/* Keep the buffer small again once a big line is gone. */
	if (cl->in_len == 0 && cl->in_cap > 4 * READ_CHUNK) {
		free(cl->in);
		cl->in = NULL;
		cl->in_cap = 0;
	}
}

static int slot_of(struct api *api, struct api_client *cl)
{
	for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
		if (api->clients[i] == cl)
			return (int)i;
	return -1;
}

static bool all_flushed(struct api *api)
{
	for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
		if (api->clients[i] && api->clients[i]->out_len > api->clients[i]->out_off)
			return false;
	return true;
}

static void *api_thread(void *arg)
{
	struct api *api = arg;
	struct timespec deadline = { 0 };

	pthread_setname_np(pthread_self(), "kite-api");
	if (kite_seccomp_enter(KITE_THREAD_API))
		return NULL; /* logged; clients then get no answers */
	for (;;) {
		struct epoll_event evs[16];
		int timeout = -1, n;
		bool stop = __atomic_load_n(&api->stop, __ATOMIC_ACQUIRE);

		if (stop) {
			struct timespec now;

			if (!deadline.tv_sec) {
				drain_queue(api); /* the shutdown event is in it */
				clock_gettime(CLOCK_MONOTONIC, &deadline);
				deadline.tv_sec += STOP_FLUSH_MS / 1000;
				deadline.tv_nsec += (STOP_FLUSH_MS % 1000) * 1000000L;
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			timeout = (int)((deadline.tv_sec - now.tv_sec) * 1000 +
					(deadline.tv_nsec - now.tv_nsec) / 1000000);
			if (timeout <= 0 || all_flushed(api))
				break;
		}
		n = epoll_wait(api->epfd, evs, 16, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("API: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			int slot;

			if (p == &tag_listen) {
				if (!stop)
					accept_clients(api);
				continue;
			}
			if (p == &tag_wake) {
				drain_queue(api);
				continue;
			}
			/* A client dropped earlier in this batch is no longer in the table. */
			slot = slot_of(api, p);
			if (slot < 0)
				continue;
			if (evs[i].events & EPOLLOUT && !client_flush(api, p)) {
				client_drop(api, (unsigned int)slot, NULL);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR) && !stop)
				read_client(api, (unsigned int)slot);
			else if (evs[i].events & (EPOLLHUP | EPOLLERR))
				client_drop(api, (unsigned int)slot, NULL);
		}
	}
	return NULL;
}

/* A stale socket (nothing accepts on it) is replaced; a live one is someone else's. */
static int remove_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_error("API socket %s: exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path));
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (ret == 0) {
		log_error("API socket %s: another process is serving it", path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED && errno != ENOENT) {
		log_error("API socket %s: %s", path, strerror(errno));
		return -errno;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		log_error("API socket %s: cannot remove the stale socket: %s", path,
			  strerror(errno));
		return -errno;
	}
	log_info("API socket %s: replaced a stale socket", path);
	return 0;
}

static int listen_path(struct api *api, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("API socket %s: path longer than %zu bytes", path,
			  sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	ret = remove_stale(path);
	if (ret)
		return ret;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Created 0600 from the start; umask is process-wide, but no other thread exists yet. */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		log_error("API socket %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	api->path = strdup(path);
	api->listen_fd = fd;
	return 0;
}

static int listen_fd(struct api *api, int fd)
{
	int on = 0, fl;
	socklen_t len = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 || !on) {
		log_error("--api-fd %d: not a listening socket", fd);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	api->listen_fd = fd;
	return 0;
}

static void api_free(struct api *api)
{
	for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
		if (api->clients[i])
			client_free(api->clients[i]);
	while (api->queue) {
		struct api_msg *m = api->queue;

		api->queue = m->next;
		free(m->line);
		free(m);
	}
	if (api->listen_fd >= 0)
		close(api->listen_fd);
	if (api->path) {
		unlink(api->path);
		free(api->path);
	}
	if (api->epfd >= 0)
		close(api->epfd);
	if (api->wake_efd >= 0)
		close(api->wake_efd);
	if (api->boot_efd >= 0)
		close(api->boot_efd);
	json_decref(api->boot_id);
	api_core_destroy(&api->core);
	pthread_mutex_destroy(&api->lock);
	pthread_mutex_destroy(&api->qlock);
	free(api);
}

int api_start(struct api **out, const struct vm_config *cfg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct api *api = calloc(1, sizeof(*api));
	int ret;

	*out = NULL;
	if (!api)
		return KITE_EXIT_INTERNAL;
	api->listen_fd = api->epfd = api->wake_efd = api->boot_efd = -1;
	pthread_mutex_init(&api->lock, NULL);
	pthread_mutex_init(&api->qlock, NULL);
	api->uid = geteuid();
	if (api_core_init(&api->core, cfg, &api_vm_backend, api)) {
		api_free(api);
		return KITE_EXIT_INTERNAL;
	}
	ret = cfg->api_socket ? listen_path(api, cfg->api_socket) : listen_fd(api, cfg->api_fd);
	if (ret) {
		api_free(api);
		return KITE_EXIT_DEVICE;
	}
	api->epfd = epoll_create1(EPOLL_CLOEXEC);
	api->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	api->boot_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = &tag_listen;
	ret = api->epfd < 0 || api->wake_efd < 0 || api->boot_efd < 0 ||
	      epoll_ctl(api->epfd, EPOLL_CTL_ADD, api->listen_fd, &ev) < 0;
	ev.data.ptr = &tag_wake;
	if (!ret)
		ret = epoll_ctl(api->epfd, EPOLL_CTL_ADD, api->wake_efd, &ev) < 0;
	if (ret) {
		log_error("API: set-up: %s", strerror(errno));
		api_free(api);
		return KITE_EXIT_INTERNAL;
	}
	ret = pthread_create(&api->thread, NULL, api_thread, api);
	if (ret) {
		log_error("API: cannot start its thread: %s", strerror(ret));
		api_free(api);
		return KITE_EXIT_INTERNAL;
	}
	api->started = true;
	log_info("API: serving %s", cfg->api_socket ? cfg->api_socket : "the inherited socket");
	*out = api;
	return 0;
}

int api_wait_boot(struct api *api, const sigset_t *sigs, const struct vm_config **cfg,
		  const char **reason)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int sfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	int ret = KITE_EXIT_INTERNAL;

	*reason = "internal";
	if (ep < 0 || sfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0 ||
	    (ev.data.fd = 1, epoll_ctl(ep, EPOLL_CTL_ADD, api->boot_efd, &ev) < 0)) {
		log_error("API: pre-boot wait: %s", strerror(errno));
		goto out;
	}
	log_info("API: pre-boot, waiting for configure and boot");
	for (;;) {
		struct epoll_event got;
		int n = epoll_wait(ep, &got, 1, -1);
		int req;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("API: pre-boot wait: %s", strerror(errno));
			goto out;
		}
		if (got.data.fd != 1) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				log_warn("received signal %u before boot, stopping", si.ssi_signo);
				*reason = "signal";
				ret = KITE_EXIT_SIGNAL;
				goto out;
			}
			continue;
		}
		pthread_mutex_lock(&api->lock);
		req = api->boot_req;
		pthread_mutex_unlock(&api->lock);
		if (req == API_BOOT_KILLED) {
			*reason = "api-kill";
			ret = KITE_EXIT_SIGNAL;
			goto out;
		}
		if (req == API_BOOT_REQUESTED) {
			/* Stable from here: configure is refused outside pre-boot. */
			*cfg = &api->core.cfg;
			ret = 0;
			goto out;
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (ep >= 0)
		close(ep);
	return ret;
}

void api_boot_done(struct api *api, struct vm *vm, int code)
{
	json_t *reply;
	uint64_t serial;

	if (!api)
		return;
	pthread_mutex_lock(&api->lock);
	if (!code)
		api->vm = vm;
	if (!api->boot_id) {
		/* Booted from the command line: no one is waiting for a reply. */
		api->core.state = code ? API_STOPPING : API_RUNNING;
		pthread_mutex_unlock(&api->lock);
		return;
	}
	reply = api_core_boot_done(&api->core, api->boot_id, code, code ? log_last_error() : NULL);
	serial = api->boot_serial;
	json_decref(api->boot_id);
	api->boot_id = NULL;
	pthread_mutex_unlock(&api->lock);
	api_queue(api, serial, reply, -1);
}

void api_vm_stopping(struct api *api)
{
	if (!api)
		return;
	pthread_mutex_lock(&api->lock);
	api->vm = NULL;
	api->core.state = API_STOPPING;
	pthread_mutex_unlock(&api->lock);
}

void api_stop(struct api *api, int code, const char *reason)
{
	if (!api)
		return;
	api_vm_stopping(api);
	api_queue(api, 0,
		  api_event("shutdown", json_pack("{s:i, s:s}", "exit_code", code, "reason",
						  reason ? reason : "status")),
		  -1);
	__atomic_store_n(&api->stop, true, __ATOMIC_RELEASE);
	if (api->started) {
		uint64_t one = 1;

		if (write(api->wake_efd, &one, sizeof(one)) < 0)
			log_debug("API: wake: %s", strerror(errno));
		pthread_join(api->thread, NULL);
	}
	api_free(api);
}
