// SPDX-License-Identifier: GPL-2.0-only
/* Named file descriptors handed to kite (see vmm/config_fd.h). */
#include "vmm/config_fd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/config.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"

struct fd_entry {
	char name[FD_NAME_MAX];
	int fd;
};

struct fd_registry {
	pthread_mutex_t lock;
	struct fd_entry e[FD_REGISTRY_MAX];
	unsigned int n;
};

static bool name_is_number(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)name[i]))
			return false;
	return true;
}

static bool name_registrable(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= FD_NAME_MAX || !isalpha((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

bool config_fd_name_valid(const char *name)
{
	return name && (name_registrable(name) || name_is_number(name));
}

struct fd_registry *fd_registry_create(void)
{
	struct fd_registry *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void fd_registry_destroy(struct fd_registry *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < r->n; i++)
		close(r->e[i].fd);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static int find(const struct fd_registry *r, const char *name)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (!strcmp(r->e[i].name, name))
			return (int)i;
	return -1;
}

int fd_registry_add(struct fd_registry *r, const char *name, int fd)
{
	int ret = 0;

	if (!name_registrable(name) || fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (find(r, name) >= 0) {
		ret = -EEXIST;
	} else if (r->n == FD_REGISTRY_MAX) {
		ret = -ENOSPC;
	} else {
		snprintf(r->e[r->n].name, FD_NAME_MAX, "%s", name);
		r->e[r->n++].fd = fd;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int fd_registry_remove(struct fd_registry *r, const char *name)
{
	int i;

	pthread_mutex_lock(&r->lock);
	i = find(r, name);
	if (i >= 0) {
		close(r->e[i].fd);
		r->e[i] = r->e[--r->n];
	}
	pthread_mutex_unlock(&r->lock);
	return i >= 0 ? 0 : -ENOENT;
}

unsigned int fd_registry_count(struct fd_registry *r)
{
	unsigned int n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

int fd_registry_name(struct fd_registry *r, unsigned int i, char out[FD_NAME_MAX])
{
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	if (i < r->n) {
		memcpy(out, r->e[i].name, FD_NAME_MAX);
		ret = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* A duplicate of the registered or inherited fd, or -errno. */
static int fd_dup(const struct vm_config *cfg, const char *name)
{
	int fd = -ENOENT;

	if (name_is_number(name)) {
		fd = fcntl(atoi(name), F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : fd;
	}
	if (!cfg->fds || !name_registrable(name))
		return -ENOENT;
	pthread_mutex_lock(&cfg->fds->lock);
	int i = find(cfg->fds, name);

	if (i >= 0) {
		fd = fcntl(cfg->fds->e[i].fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			fd = -errno;
	}
	pthread_mutex_unlock(&cfg->fds->lock);
	return fd;
}

int config_fd_check(const struct vm_config *cfg, const char *name, const char *what)
{
	int fd = fd_dup(cfg, name);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (name_is_number(name))
		return config_error("%s: fd=%s is not an open file descriptor of kite", what, name);
	return config_error("%s: no fd named '%s' (hand it over with add-fd first)", what, name);
}

int config_fds_check(const struct vm_config *cfg)
{
	int ret = 0;

	for (unsigned int i = 0; i < cfg->ndisks && !ret; i++)
		if (cfg->disks[i].fd_name)
			ret = config_fd_check(cfg, cfg->disks[i].fd_name, "disk");
	for (unsigned int i = 0; i < cfg->nnets && !ret; i++)
		if (cfg->nets[i].fd_name)
			ret = config_fd_check(cfg, cfg->nets[i].fd_name, "net");
	for (unsigned int i = 0; i < cfg->nvfio && !ret; i++)
		if (cfg->vfio[i].fd_name)
			ret = config_fd_check(cfg, cfg->vfio[i].fd_name, "vfio");
	if (!ret && cfg->iommufd_fd)
		ret = config_fd_check(cfg, cfg->iommufd_fd, "iommufd");
	return ret;
}

int config_fd_open(const struct vm_config *cfg, const char *name, const char *what)
{
	int fd = fd_dup(cfg, name);

	if (fd < 0)
		log_error("%s: fd %s: %s", what, name,
			  fd == -ENOENT ? "no such name (add-fd it first)" : strerror(-fd));
	return fd;
}
