/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Named file descriptors for the config layer. A host agent that opened a
 * tap, a disk image, /dev/iommu or a VFIO cdev with privileges kite lacks
 * hands the fd over (the control API's add-fd, SCM_RIGHTS) under a NAME;
 * any config field written "fd=NAME" then refers to it:
 *
 *   parsing  a field that takes an fd stores the NAME string and checks its
 *            syntax with config_fd_name_valid() (no host resources touched);
 *   checking config_fd_check(cfg, NAME) before boot: is NAME usable now?
 *   building the device calls config_fd_open(cfg, NAME, "what") and owns the
 *            returned CLOEXEC duplicate (close it when done); the registry
 *            keeps its own copy, so a failed boot or a second device can
 *            take it again.
 *
 * Names start with a letter: [A-Za-z][A-Za-z0-9_.-]{0,30}. A NAME made only
 * of digits is a descriptor kite inherited from its parent (`kite run --disk
 * fd=3 3<disk.img`), so CLI, config file and API take the same syntax.
 * The registry is locked: the API thread adds while the main thread builds.
 */
#ifndef KITE_VMM_CONFIG_FD_H
#define KITE_VMM_CONFIG_FD_H

#include <stdbool.h>

struct vm_config;
struct fd_registry;

#define FD_REGISTRY_MAX 64
#define FD_NAME_MAX 32 /* with the NUL */

/* true for a registrable name or a decimal inherited-fd number. */
bool config_fd_name_valid(const char *name);

struct fd_registry *fd_registry_create(void);
/* Closes every registered fd. */
void fd_registry_destroy(struct fd_registry *r);
/*
 * Registers @fd (ownership passes on success) as @name. -EINVAL (name not
 * registrable: must start with a letter), -EEXIST, -ENOSPC.
 */
int fd_registry_add(struct fd_registry *r, const char *name, int fd);
/* Closes and forgets @name. 0 or -ENOENT. */
int fd_registry_remove(struct fd_registry *r, const char *name);
/* Number of names, and the i-th name copied to @out (FD_NAME_MAX bytes). */
unsigned int fd_registry_count(struct fd_registry *r);
int fd_registry_name(struct fd_registry *r, unsigned int i, char out[FD_NAME_MAX]);

/*
 * Is @name usable for @cfg now (registered in cfg->fds, or an open inherited
 * descriptor)? 0, or KITE_EXIT_USAGE after one error line (config_error).
 */
int config_fd_check(const struct vm_config *cfg, const char *name, const char *what);
/* Every fd= name the config holds passes config_fd_check. */
int config_fds_check(const struct vm_config *cfg);
/*
 * A new O_CLOEXEC duplicate of @name for a device to own, or -errno after
 * logging "WHAT: fd NAME: ..." once.
 */
int config_fd_open(const struct vm_config *cfg, const char *name, const char *what);

#endif
