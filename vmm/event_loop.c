// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/event_loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/seccomp.h"

#define EVENT_LOOP_MAX 128

struct event_source {
	int fd;
	event_handler_fn fn;
	void *opaque;
	bool used;
};

struct event_loop {
	int epfd;
	int stop_efd;
	pthread_t thread;
	bool started;
	/*
	 * Held by the loop thread while it dispatches, so event_loop_del from
	 * another thread waits for a running handler to finish.
	 */
	pthread_mutex_t lock;
	pthread_cond_t resume; /* signalled when `paused` clears or the loop stops */
	bool paused, stopping;
	struct event_source src[EVENT_LOOP_MAX];
};

struct event_loop *event_loop_create(void)
{
	struct event_loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };

	if (!l)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->resume, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->stop_efd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stop_efd, &ev) < 0) {
		log_error("device event loop: %s", strerror(errno));
		event_loop_destroy(l);
		return NULL;
	}
	return l;
}

int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_handler_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	int ret = -ENOSPC;

	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < EVENT_LOOP_MAX; i++) {
		if (l->src[i].used)
			continue;
		ev.data.u32 = i;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			ret = -errno;
			break;
		}
		l->src[i] = (struct event_source){
			.fd = fd, .fn = fn, .opaque = opaque, .used = true
		};
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		log_error("device event loop: cannot watch fd %d: %s", fd, strerror(-ret));
	return ret;
}

int event_loop_del(struct event_loop *l, int fd)
{
	int ret = -ENOENT;

	/* A handler may remove its own fd: the loop thread already holds the lock then. */
	bool self = l->started && pthread_equal(pthread_self(), l->thread);

	if (!self)
		pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < EVENT_LOOP_MAX; i++) {
		if (l->src[i].used && l->src[i].fd == fd) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->src[i].used = false;
			ret = 0;
			break;
		}
	}
	if (!self)
		pthread_mutex_unlock(&l->lock);
	return ret;
}

static void *event_loop_thread(void *arg)
{
	struct event_loop *l = arg;

	pthread_setname_np(pthread_self(), "kite-devloop");
	if (kite_seccomp_enter(KITE_THREAD_DEVLOOP))
		return NULL; /* logged; devices then get no service, and the guest no I/O */
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(l->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("device event loop: epoll_wait: %s", strerror(errno));
			return NULL;
		}
		pthread_mutex_lock(&l->lock);
		while (l->paused && !l->stopping)
			pthread_cond_wait(&l->resume, &l->lock);
		for (int i = 0; i < n; i++) {
			uint32_t idx = evs[i].data.u32;

			if (idx == UINT32_MAX) {
				pthread_mutex_unlock(&l->lock);
				return NULL;
			}
			/* Skip sources removed by an earlier handler in this batch. */
			if (idx < EVENT_LOOP_MAX && l->src[idx].used)
				l->src[idx].fn(l->src[idx].opaque, evs[i].events);
		}
		pthread_mutex_unlock(&l->lock);
	}
}

int event_loop_start(struct event_loop *l)
{
	int ret = pthread_create(&l->thread, NULL, event_loop_thread, l);

	if (ret) {
		log_error("device event loop: cannot start thread: %s", strerror(ret));
		return -ret;
	}
	l->started = true;
	return 0;
}

void event_loop_pause(struct event_loop *l)
{
	/* The loop holds the lock while it dispatches: taking it waits for a running handler. */
	pthread_mutex_lock(&l->lock);
	l->paused = true;
	pthread_mutex_unlock(&l->lock);
}

void event_loop_resume(struct event_loop *l)
{
	pthread_mutex_lock(&l->lock);
	l->paused = false;
	pthread_cond_broadcast(&l->resume);
	pthread_mutex_unlock(&l->lock);
}

void event_loop_destroy(struct event_loop *l)
{
	uint64_t one = 1;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	pthread_cond_broadcast(&l->resume);
	pthread_mutex_unlock(&l->lock);
	if (l->started) {
		if (write(l->stop_efd, &one, sizeof(one)) < 0)
			log_warn("device event loop: stop: %s", strerror(errno));
		pthread_join(l->thread, NULL);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->stop_efd >= 0)
		close(l->stop_efd);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->resume);
	free(l);
}
