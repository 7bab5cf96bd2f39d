/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device event loop: one thread for all device I/O (virtqueue kicks via
 * ioeventfd, tap fds, timers). vCPU threads never do device I/O.
 */
#ifndef KITE_VMM_EVENT_LOOP_H
#define KITE_VMM_EVENT_LOOP_H

#include <stdint.h>

struct event_loop;

/* Called on the loop thread with the epoll events that fired. */
typedef void (*event_handler_fn)(void *opaque, uint32_t events);

struct event_loop *event_loop_create(void);
/* Watches @fd (EPOLLIN etc.). Safe from any thread, before or after start. 0 or -errno. */
int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_handler_fn fn,
		   void *opaque);
/* Stops watching @fd; after return the handler is not running and won't run again. */
int event_loop_del(struct event_loop *l, int fd);
int event_loop_start(struct event_loop *l);
/*
 * Quiesces the loop: after return no handler runs until event_loop_resume
 * (events that arrive meanwhile are handled then). Any thread but the loop's.
 */
void event_loop_pause(struct event_loop *l);
void event_loop_resume(struct event_loop *l);
/* Stops the thread (if started) and frees the loop. */
void event_loop_destroy(struct event_loop *l);

#endif
