// SPDX-License-Identifier: GPL-2.0-only
/*
 * --vfio bdf=DDDD:BB:DD.F|path=/dev/vfio/devices/vfioN|fd=NAME and --iommufd fd=NAME: syntax
 * only, shared by the command line, the config file and the control API (vmm/config.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/config_fd.h"

/* Domain:bus:device.function as sysfs spells it: 0000:00:04.0 (lower-case hex). */
bool config_bdf_valid(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] != 'x' ? s[i] != pat[i]
				  : !isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	}
	/* Device 0..1f, function 0..7. */
	return strtoul(s + 8, NULL, 16) <= 0x1f && s[11] <= '7';
}

static bool vfio_path_valid(const char *s)
{
	return s[0] == '/' && strlen(s) < 256 && !strpbrk(s, ",\n");
}

void vfio_config_free(struct vfio_config *v)
{
	free(v->bdf);
	free(v->path);
	free(v->fd_name);
	memset(v, 0, sizeof(*v));
}

int parse_vfio(const char *s, struct vfio_config *v)
{
	const char *eq = strchr(s, '=');
	char **dst = NULL;

	memset(v, 0, sizeof(*v));
	/* Exactly one key; a comma would be a second field, and there is none yet. */
	if (!eq || strchr(s, ','))
		return -EINVAL;
	if (!strncmp(s, "bdf=", 4) && config_bdf_valid(eq + 1))
		dst = &v->bdf;
	else if (!strncmp(s, "path=", 5) && vfio_path_valid(eq + 1))
		dst = &v->path;
	else if (!strncmp(s, "fd=", 3) && config_fd_name_valid(eq + 1))
		dst = &v->fd_name;
	if (!dst)
		return -EINVAL;
	*dst = strdup(eq + 1);
	return *dst ? 0 : -ENOMEM;
}

int parse_iommufd(const char *s, char **fd_name)
{
	if (strncmp(s, "fd=", 3) || !config_fd_name_valid(s + 3))
		return -EINVAL;
	free(*fd_name);
	*fd_name = strdup(s + 3);
	return *fd_name ? 0 : -ENOMEM;
}

const char *vfio_config_label(const struct vfio_config *v, char *buf, size_t len)
{
	if (v->bdf)
		snprintf(buf, len, "vfio %s", v->bdf);
	else if (v->path)
		snprintf(buf, len, "vfio %s", v->path);
	else
		snprintf(buf, len, "vfio fd=%s", v->fd_name ? v->fd_name : "?");
	return buf;
}
