// SPDX-License-Identifier: GPL-2.0-only
#include "vmm/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config_fd.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/seccomp.h"

void config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory = KITE_DEFAULT_MEMORY;
	cfg->cpus = 1;
	cfg->serial = SERIAL_STDIO;
	cfg->log_level = LOG_WARN;
	cfg->api_fd = -1;
}

static void config_clear_devices_of(struct vm_config *cfg, const char *key)
{
	if (!strcmp(key, "disk")) {
		for (unsigned int i = 0; i < cfg->ndisks; i++) {
			free(cfg->disks[i].path);
			free(cfg->disks[i].fd_name);
		}
		cfg->ndisks = 0;
	} else if (!strcmp(key, "vfio")) {
		for (unsigned int i = 0; i < cfg->nvfio; i++)
			vfio_config_free(&cfg->vfio[i]);
		cfg->nvfio = 0;
	} else {
		for (unsigned int i = 0; i < cfg->nnets; i++) {
			free(cfg->nets[i].tap);
			free(cfg->nets[i].fd_name);
		}
		cfg->nnets = 0;
	}
}

void config_free(struct vm_config *cfg)
{
	config_clear_devices_of(cfg, "disk");
	config_clear_devices_of(cfg, "net");
	config_clear_devices_of(cfg, "vfio");
	free(cfg->iommufd_fd);
	free(cfg->kernel);
	free(cfg->initrd);
	free(cfg->cmdline);
	free(cfg->serial_path);
	free(cfg->api_socket);
	memset(cfg, 0, sizeof(*cfg));
	cfg->api_fd = -1;
}

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = strdup(src);
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 20; /* a bare number means MiB, as with QEMU's -m */
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		case 't':
		case 'T':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_serial(const char *s, struct vm_config *cfg)
{
	if (!strcmp(s, "stdio")) {
		cfg->serial = SERIAL_STDIO;
	} else if (!strcmp(s, "none")) {
		cfg->serial = SERIAL_NONE;
	} else if (!strncmp(s, "file:", 5) && s[5]) {
		cfg->serial = SERIAL_FILE;
		set_str(&cfg->serial_path, s + 5);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Splits "k1=v1,k2=v2" in place; calls @fn for each pair. */
static int parse_kv_list(char *s, int (*fn)(void *ctx, const char *k, const char *v), void *ctx)
{
	char *save = NULL;

	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int ret;

		if (!eq || eq == tok)
			return -EINVAL;
		*eq = '\0';
		ret = fn(ctx, tok, eq + 1);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* The one spelling of a disk's cache mode, for flags and JSON alike. */
static int parse_cache(const char *v, bool *none)
{
	if (!strcmp(v, "none"))
		*none = true;
	else if (!strcmp(v, "writeback"))
		*none = false;
	else
		return -EINVAL;
	return 0;
}

static int disk_kv(void *ctx, const char *k, const char *v)
{
	struct disk_config *d = ctx;

	if (!strcmp(k, "path") && *v) {
		set_str(&d->path, v);
		return 0;
	}
	if (!strcmp(k, "readonly"))
		return parse_onoff(v, &d->readonly);
	if (!strcmp(k, "cache"))
		return parse_cache(v, &d->cache_none);
	if (!strcmp(k, "fd") && config_fd_name_valid(v)) {
		set_str(&d->fd_name, v);
		return 0;
	}
	return -EINVAL;
}

int parse_disk(const char *s, struct disk_config *d)
{
	char *copy;
	int ret;

	memset(d, 0, sizeof(*d));
	if (!*s)
		return -EINVAL;
	if (!strchr(s, '=')) {
		set_str(&d->path, s);
		return 0;
	}
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	ret = parse_kv_list(copy, disk_kv, d);
	free(copy);
	/* Exactly one of path= and fd=. */
	if (!ret && !d->path == !d->fd_name)
		ret = -EINVAL;
	if (ret) {
		free(d->path);
		free(d->fd_name);
		d->path = d->fd_name = NULL;
	}
	return ret;
}

static int parse_mac(const char *v, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6 ||
	    strlen(v) != 17)
		return -EINVAL;
	/* %x also takes a sign, blanks or 0x: insist on two hex digits per byte. */
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? v[i] != ':' : !isxdigit((unsigned char)v[i]))
			return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A multicast source address would make the guest's NIC unusable. */
	if (mac[0] & 1)
		return -EINVAL;
	return 0;
}

static int net_kv(void *ctx, const char *k, const char *v)
{
	struct net_config *n = ctx;

	/* A Linux interface name: 1..15 bytes, no '/' or white space, not "." or "..". */
	if (!strcmp(k, "tap") && *v && strlen(v) < 16 && !strpbrk(v, "/ \t\n") && strcmp(v, ".") &&
	    strcmp(v, "..")) {
		set_str(&n->tap, v);
		return 0;
	}
	if (!strcmp(k, "mac")) {
		n->has_mac = true;
		return parse_mac(v, n->mac);
	}
	if (!strcmp(k, "fd") && config_fd_name_valid(v)) {
		set_str(&n->fd_name, v);
		return 0;
	}
	return -EINVAL;
}

int parse_net(const char *s, struct net_config *n)
{
	char *copy = strdup(s);
	int ret;

	memset(n, 0, sizeof(*n));
	if (!copy)
		return -ENOMEM;
	ret = parse_kv_list(copy, net_kv, n);
	free(copy);
	/* Exactly one of tap= and fd=. */
	if (!ret && !n->tap == !n->fd_name)
		ret = -EINVAL;
	if (ret) {
		free(n->tap);
		free(n->fd_name);
		n->tap = n->fd_name = NULL;
	}
	return ret;
}

static int iommu_kv(void *ctx, const char *k, const char *v)
{
	struct iommu_config *c = ctx;

	if (!strcmp(k, "scalable"))
		return parse_onoff(v, &c->scalable);
	if (!strcmp(k, "aw")) {
		if (strcmp(v, "39") && strcmp(v, "48"))
			return -EINVAL;
		c->aw = (unsigned int)atoi(v);
		return 0;
	}
	if (!strcmp(k, "mode")) {
		static const char *const modes[] = { "auto", "emulated", "shadow", "nested" };

		for (unsigned int i = 0; i < 4; i++) {
			if (!strcmp(v, modes[i])) {
				c->mode = (enum iommu_mode)i;
				return 0;
			}
		}
	}
	return -EINVAL;
}

struct iommu_kv_ctx {
	struct iommu_config c;
	char bad[64];
};

static int iommu_kv_named(void *ctx, const char *k, const char *v)
{
	struct iommu_kv_ctx *x = ctx;
	int ret = iommu_kv(&x->c, k, v);

	if (ret)
		snprintf(x->bad, sizeof(x->bad), "%s=%s", k, v);
	return ret;
}

int parse_iommu(const char *s, struct iommu_config *c, const char **bad)
{
	static __thread char badbuf[64];
	struct iommu_kv_ctx x = { .c = { .kind = IOMMU_VTD, .aw = 48 } };
	const char *rest;
	char *copy;
	int ret;

	*bad = s;
	if (strncmp(s, "vtd", 3) || (s[3] && s[3] != ','))
		return -EINVAL;
	rest = s[3] ? s + 4 : "";
	copy = strdup(rest);
	if (!copy)
		return -ENOMEM;
	ret = *copy ? parse_kv_list(copy, iommu_kv_named, &x) : 0;
	free(copy);
	if (ret) {
		memcpy(badbuf, x.bad, sizeof(badbuf));
		*bad = badbuf[0] ? badbuf : s;
		return ret;
	}
	*c = x.c;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Per thread, so the API thread can capture while the main thread prints. */
static __thread char *err_capture;
static __thread size_t err_capture_len;

void config_capture_errors(char *buf, size_t len)
{
	err_capture = buf && len ? buf : NULL;
	err_capture_len = err_capture ? len : 0;
	if (err_capture)
		err_capture[0] = '\0';
}

int config_error(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (err_capture) {
		if (!err_capture[0]) /* the first error is the one that stopped parsing */
			snprintf(err_capture, err_capture_len, "%s", line);
	} else {
		fprintf(stderr, "kite: error: %s\n", line);
	}
	return KITE_EXIT_USAGE;
}

#define usage_error config_error

/* Applies one option value (from the CLI or the config file) to cfg. */
static int config_apply(struct vm_config *cfg, const char *key, const char *val)
{
	unsigned long n;

	if (!strcmp(key, "kernel")) {
		set_str(&cfg->kernel, val);
	} else if (!strcmp(key, "initrd")) {
		set_str(&cfg->initrd, val);
	} else if (!strcmp(key, "cmdline")) {
		set_str(&cfg->cmdline, val);
	} else if (!strcmp(key, "memory")) {
		if (parse_size(val, &cfg->memory))
			return usage_error("invalid memory size '%s' (use e.g. 512M or 2G)", val);
	} else if (!strcmp(key, "cpus")) {
		if (parse_uint(val, 100000, &n))
			return usage_error("invalid vCPU count '%s'", val);
		cfg->cpus = (unsigned int)n;
	} else if (!strcmp(key, "serial")) {
		if (parse_serial(val, cfg))
			return usage_error("invalid serial '%s' (use stdio, file:PATH or none)",
					   val);
	} else if (!strcmp(key, "timeout")) {
		if (parse_seconds(val, &cfg->timeout))
			return usage_error("invalid timeout '%s' (seconds, >= 0)", val);
	} else if (!strcmp(key, "disk")) {
		if (cfg->ndisks == KITE_MAX_DISKS)
			return usage_error("too many --disk (at most %d)", KITE_MAX_DISKS);
		if (parse_disk(val, &cfg->disks[cfg->ndisks]))
			return usage_error(
				"invalid --disk '%s' (use path=FILE|fd=NAME[,readonly=on][,cache=none|writeback])",
				val);
		cfg->ndisks++;
	} else if (!strcmp(key, "net")) {
		if (cfg->nnets == KITE_MAX_NETS)
			return usage_error("too many --net (at most %d)", KITE_MAX_NETS);
		if (parse_net(val, &cfg->nets[cfg->nnets]))
			return usage_error(
				"invalid --net '%s' (use tap=NAME|fd=NAME[,mac=52:54:00:12:34:56])",
				val);
		cfg->nnets++;
	} else if (!strcmp(key, "vfio")) {
		if (cfg->nvfio == KITE_MAX_VFIO)
			return usage_error("too many --vfio (at most %d)", KITE_MAX_VFIO);
		if (parse_vfio(val, &cfg->vfio[cfg->nvfio]))
			return usage_error("invalid --vfio '%s' (use bdf=0000:00:04.0|"
					   "path=/dev/vfio/devices/vfioN|fd=NAME)",
					   val);
		cfg->nvfio++;
	} else if (!strcmp(key, "iommufd")) {
		if (parse_iommufd(val, &cfg->iommufd_fd))
			return usage_error(
				"invalid --iommufd '%s' (use fd=NAME, an open /dev/iommu)", val);
	} else if (!strcmp(key, "console")) {
		if (!strcmp(val, "serial"))
			cfg->console = CONSOLE_SERIAL;
		else if (!strcmp(val, "virtio"))
			cfg->console = CONSOLE_VIRTIO;
		else
			return usage_error("invalid --console '%s' (use serial or virtio)", val);
	} else if (!strcmp(key, "hugepages")) {
		if (parse_onoff(val, &cfg->hugepages))
			return usage_error("invalid hugepages value '%s' (use on or off)", val);
	} else if (!strcmp(key, "rng")) {
		if (parse_onoff(val, &cfg->rng))
			return usage_error("invalid rng value '%s' (use on or off)", val);
	} else if (!strcmp(key, "iommu")) {
		const char *bad;

		if (parse_iommu(val, &cfg->iommu, &bad))
			return usage_error("invalid --iommu '%s' at '%s' (use vtd[,scalable=on|off]"
					   "[,aw=39|48][,mode=auto|emulated|shadow|nested])",
					   val, bad);
	} else if (!strcmp(key, "log-level") || !strcmp(key, "log_level")) {
		int lvl = log_parse_level(val);

		if (lvl < 0)
			return usage_error("invalid log level '%s' (error, warn, info, debug)",
					   val);
		cfg->log_level = lvl;
	} else if (!strcmp(key, "seccomp")) {
		int m = kite_seccomp_parse(val);

		if (m < 0)
			return usage_error("invalid --seccomp '%s' (use on, off or log)", val);
		cfg->seccomp = m;
	} else if (!strcmp(key, "api-socket")) {
		if (!*val)
			return usage_error("--api-socket needs a path");
		set_str(&cfg->api_socket, val);
	} else if (!strcmp(key, "api-fd")) {
		if (parse_uint(val, 1 << 20, &n) || n < 3)
			return usage_error(
				"invalid --api-fd '%s' (an inherited listening socket, >= 3)", val);
		cfg->api_fd = (int)n;
	} else {
		return usage_error("unknown option '%s'", key);
	}
	return 0;
}

static const char *const json_keys[] = { "kernel",  "initrd",  "cmdline",   "memory", "cpus",
					 "serial",  "timeout", "log_level", "disk",   "net",
					 "console", "rng",     "hugepages", "iommu",  "vfio",
					 "iommufd", "seccomp" };

/* One "vfio" entry: {"bdf": "..."} | {"path": "..."} | {"fd": "NAME"}, as the flag. */
static int json_vfio_object(const char *path, struct vm_config *cfg, json_t *obj)
{
	const char *k, *sv;
	char spec[300];
	json_t *v;

	if (json_object_size(obj) != 1)
		return config_error("config %s: a 'vfio' entry needs exactly one of bdf, path, fd",
				    path);
	json_object_foreach (obj, k, v) {
		sv = json_is_string(v) ? json_string_value(v) : NULL;
		if (!sv || strchr(sv, ',') ||
		    (strcmp(k, "bdf") && strcmp(k, "path") && strcmp(k, "fd")) ||
		    snprintf(spec, sizeof(spec), "%s=%s", k, sv) >= (int)sizeof(spec))
			return config_error("config %s: 'vfio.%s' is unknown or has a bad value",
					    path, k);
	}
	return config_apply(cfg, "vfio", spec);
}

/* Fills one disk or net entry from a JSON object, field by field (no string re-parsing). */
static int json_list_object(const char *path, struct vm_config *cfg, const char *key, json_t *obj)
{
	bool is_disk = !strcmp(key, "disk");
	struct disk_config d = { 0 };
	struct net_config n = { 0 };
	const char *k;
	json_t *v;
	int ret = 0;

	/*
	 * Each field goes through the same validator as the flag's k=v pair, so the file
	 * accepts exactly what the command line accepts. Booleans read as on/off.
	 */
	json_object_foreach (obj, k, v) {
		const char *sv = json_is_string(v)    ? json_string_value(v)
				 : json_is_boolean(v) ? (json_is_true(v) ? "on" : "off")
						      : NULL;

		/* a string holding "on" for readonly is fine; a boolean tap is not */
		if (!sv || (json_is_boolean(v) && strcmp(k, "readonly")) ||
		    (is_disk ? disk_kv(&d, k, sv) : net_kv(&n, k, sv))) {
			ret = config_error("config %s: '%s.%s' is unknown or has a bad value", path,
					   key, k);
			break;
		}
	}
	if (!ret && (is_disk ? !d.path == !d.fd_name : !n.tap == !n.fd_name))
		ret = config_error("config %s: '%s' entry needs '%s' or 'fd' (one of them)", path,
				   key, is_disk ? "path" : "tap");
	if (!ret && (is_disk ? cfg->ndisks == KITE_MAX_DISKS : cfg->nnets == KITE_MAX_NETS))
		ret = config_error("config %s: too many '%s' entries", path, key);
	if (ret) {
		free(d.path);
		free(d.fd_name);
		free(n.tap);
		free(n.fd_name);
		return ret;
	}
	if (is_disk)
		cfg->disks[cfg->ndisks++] = d;
	else
		cfg->nets[cfg->nnets++] = n;
	return 0;
}

/* "disk" and "net" take an array of flag-syntax strings or of objects. */
static int json_apply_list(const char *path, struct vm_config *cfg, const char *key, json_t *val)
{
	size_t i;
	json_t *item;
	int ret;

	if (!json_is_array(val))
		return config_error("config %s: key '%s' must be an array", path, key);
	/* The array is the whole list: it replaces what an earlier source gave. */
	config_clear_devices_of(cfg, key);
	json_array_foreach (val, i, item) {
		if (json_is_string(item))
			ret = config_apply(cfg, key, json_string_value(item));
		else if (json_is_object(item) && !strcmp(key, "vfio"))
			ret = json_vfio_object(path, cfg, item);
		else if (json_is_object(item))
			ret = json_list_object(path, cfg, key, item);
		else
			ret = config_error("config %s: '%s' entries must be strings or objects",
					   path, key);
		if (ret)
			return ret;
	}
	return 0;
}

/* "iommu": {"type": "vtd", "scalable": bool, "aw": 39|48, "mode": "..."}, as the flag. */
static int json_iommu_object(const char *path, struct vm_config *cfg, json_t *obj)
{
	char type[16] = "", fields[96] = "", spec[128];
	const char *k;
	json_t *v;
	size_t n = 0;

	json_object_foreach (obj, k, v) {
		const char *sv = json_is_string(v) ? json_string_value(v) : NULL;
		int w = -1;

		if (!strcmp(k, "type") && sv && strlen(sv) < sizeof(type))
			w = snprintf(type, sizeof(type), "%s", sv) < 0 ? -1 : 0;
		else if (!strcmp(k, "scalable") && json_is_boolean(v))
			w = snprintf(fields + n, sizeof(fields) - n, ",scalable=%s",
				     json_is_true(v) ? "on" : "off");
		else if (!strcmp(k, "aw") && json_is_integer(v))
			w = snprintf(fields + n, sizeof(fields) - n, ",aw=%lld",
				     (long long)json_integer_value(v));
		else if (!strcmp(k, "mode") && sv && strlen(sv) < 16)
			w = snprintf(fields + n, sizeof(fields) - n, ",mode=%s", sv);
		if (w < 0 || n + (size_t)w >= sizeof(fields)) {
			fprintf(stderr,
				"kite: error: config %s: 'iommu.%s' is unknown or has a bad "
				"value\n",
				path, k);
			return KITE_EXIT_USAGE;
		}
		n += (size_t)w;
	}
	if (!type[0]) {
		fprintf(stderr, "kite: error: config %s: 'iommu' entry needs 'type'\n", path);
		return KITE_EXIT_USAGE;
	}
	snprintf(spec, sizeof(spec), "%s%s", type, fields);
	return config_apply(cfg, "iommu", spec);
}

int config_load_json(const char *path, struct vm_config *cfg)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return config_error("config %s: line %d: %s", path, jerr.line, jerr.text);
	ret = config_apply_json(root, path, cfg);
	json_decref(root);
	return ret;
}

int config_apply_json(json_t *root, const char *path, struct vm_config *cfg)
{
	const char *key;
	json_t *val;
	int ret = 0;

	if (!json_is_object(root))
		return config_error("config %s: top level must be a JSON object", path);
	json_object_foreach (root, key, val) {
		char buf[64];
		const char *s = NULL;
		bool known = false;

		for (unsigned int i = 0; i < sizeof(json_keys) / sizeof(json_keys[0]); i++)
			known |= !strcmp(key, json_keys[i]);
		if (!known) {
			ret = config_error("config %s: unknown key '%s'", path, key);
			break;
		}
		if (!strcmp(key, "iommu") && json_is_object(val)) {
			ret = json_iommu_object(path, cfg, val);
			if (ret)
				break;
			continue;
		}
		if (!strcmp(key, "iommufd") && json_is_object(val)) {
			json_t *fd = json_object_get(val, "fd");

			if (json_object_size(val) != 1 || !json_is_string(fd)) {
				ret = config_error(
					"config %s: 'iommufd' must be {\"fd\": \"NAME\"}", path);
				break;
			}
			snprintf(buf, sizeof(buf), "fd=%.40s", json_string_value(fd));
			ret = config_apply(cfg, key, buf);
			if (ret)
				break;
			continue;
		}
		if (!strcmp(key, "disk") || !strcmp(key, "net") || !strcmp(key, "vfio")) {
			ret = json_apply_list(path, cfg, key, val);
			if (ret)
				break;
			continue;
		}
		if (json_is_boolean(val) && (!strcmp(key, "rng") || !strcmp(key, "hugepages"))) {
			s = json_is_true(val) ? "on" : "off";
		} else if (json_is_string(val)) {
			s = json_string_value(val);
		} else if (json_is_integer(val) &&
			   (!strcmp(key, "memory") || !strcmp(key, "cpus") ||
			    !strcmp(key, "timeout"))) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(val));
			s = buf;
		} else if (json_is_real(val) && !strcmp(key, "timeout")) {
			snprintf(buf, sizeof(buf), "%.17g", json_real_value(val));
			s = buf;
		} else {
			ret = config_error("config %s: key '%s' has the wrong type", path, key);
			break;
		}
		ret = config_apply(cfg, key, s);
		if (ret)
			break;
	}
	return ret;
}

void cli_usage(FILE *out)
{
	fputs("usage: kite run --kernel PATH [--initrd PATH] [--cmdline STR] [--memory SIZE]\n"
	      "                [--cpus N] [--serial stdio|file:PATH|none] [--timeout SECONDS]\n"
	      "                [--log-level error|warn|info|debug] [--config FILE]\n"
	      "                [--disk path=FILE|fd=NAME[,readonly=on][,cache=none|writeback]]...\n"
	      "                [--net tap=NAME|fd=NAME[,mac=MAC]]...\n"
	      "                [--console serial|virtio] [--rng] [--hugepages]\n"
	      "                [--iommu vtd[,scalable=on|off][,aw=39|48][,mode=MODE]]\n"
	      "                [--vfio bdf=DDDD:BB:DD.F|path=/dev/vfio/devices/vfioN|fd=NAME]...\n"
	      "                [--iommufd fd=NAME]\n"
	      "                [--api-socket PATH | --api-fd N] [--seccomp on|off|log]\n"
	      "       kite ctl SOCKET METHOD [JSON] [--fd N]\n"
	      "       kite --help | --version\n"
	      "\n"
	      "SIZE is a number with an optional K, M, G or T suffix (no suffix: MiB).\n"
	      "A JSON --config file takes the same keys (log_level for --log-level);\n"
	      "flags given on the command line override it. Exit codes: docs/exit-codes.md.\n",
	      out);
}

static int config_validate_settings(const struct vm_config *cfg);

struct cli_opt {
	const char *key;
	const char *val;
};

int cli_parse(int argc, char **argv, struct vm_config *cfg, enum cli_command *cmd)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'n' },
		{ "serial", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "disk", required_argument, NULL, 'd' },
		{ "net", required_argument, NULL, 'N' },
		{ "console", required_argument, NULL, 'C' },
		{ "rng", no_argument, NULL, 'r' },
		{ "hugepages", no_argument, NULL, 'H' },
		{ "iommu", required_argument, NULL, 'I' },
		{ "vfio", required_argument, NULL, 'v' },
		{ "iommufd", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'f' },
		{ "api-socket", required_argument, NULL, 'A' },
		{ "api-fd", required_argument, NULL, 'F' },
		{ "seccomp", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_opt *opts;
	const char *config_path = NULL;
	unsigned int nopts = 0;
	int ret = 0, c, prev;

	if (argc < 2)
		return usage_error("no command given; try 'kite --help'");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		*cmd = CLI_HELP;
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		*cmd = CLI_VERSION;
		return 0;
	}
	if (strcmp(argv[1], "run"))
		return usage_error("unknown command '%s'; try 'kite --help'", argv[1]);
	*cmd = CLI_RUN;

	opts = calloc((size_t)argc, sizeof(*opts));
	if (!opts)
		return KITE_EXIT_INTERNAL;
	opterr = 0;
	optind = 2;
	while ((prev = optind, c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const struct option *o;

		if (c == 'h') {
			*cmd = CLI_HELP;
			goto out;
		}
		if (c == 'V') {
			*cmd = CLI_VERSION;
			goto out;
		}
		if (c == '?') {
			/*
			 * Inside a cluster such as -xyz getopt has not moved optind
			 * past the word, so argv[optind - 1] is an earlier word.
			 */
			if (optopt && (optind == prev || strncmp(argv[optind - 1], "--", 2)))
				ret = usage_error("unknown flag '-%c'", optopt);
			else
				ret = usage_error("unknown flag '%s'", argv[optind - 1]);
			goto out;
		}
		if (c == ':') {
			ret = usage_error("flag '%s' needs a value", argv[optind - 1]);
			goto out;
		}
		if (c == 'f') {
			config_path = optarg;
			continue;
		}
		for (o = longopts; o->val != c; o++)
			;
		opts[nopts++] = (struct cli_opt){ .key = o->name, .val = optarg ? optarg : "on" };
	}
	if (optind < argc) {
		ret = usage_error("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (config_path) {
		ret = config_load_json(config_path, cfg);
		if (ret)
			goto out;
	}
	/* Device lists given on the command line replace the config file's. */
	for (unsigned int i = 0; i < nopts; i++)
		if (!strcmp(opts[i].key, "disk") || !strcmp(opts[i].key, "net") ||
		    !strcmp(opts[i].key, "vfio"))
			config_clear_devices_of(cfg, opts[i].key);
	for (unsigned int i = 0; i < nopts && !ret; i++)
		ret = config_apply(cfg, opts[i].key, opts[i].val);
	/* With the control API and no kernel, kite waits to be configured (pre-boot). */
	if (!ret && config_has_api(cfg) && !cfg->kernel)
		ret = config_validate_settings(cfg);
	else if (!ret)
		ret = config_validate(cfg);
out:
	free(opts);
	return ret;
}

bool config_has_api(const struct vm_config *cfg)
{
	return cfg->api_socket || cfg->api_fd >= 0;
}

int config_validate(const struct vm_config *cfg)
{
	if (!cfg->kernel || !*cfg->kernel)
		return usage_error("no kernel given (--kernel PATH)");
	return config_validate_settings(cfg);
}

static int config_validate_settings(const struct vm_config *cfg)
{
	if (cfg->api_socket && cfg->api_fd >= 0)
		return usage_error("--api-socket and --api-fd exclude each other");
	if (cfg->cpus == 0)
		return usage_error("--cpus must be at least 1");
	if (cfg->cpus > KITE_MAX_CPUS) {
		return usage_error("--cpus %u exceeds kite's limit of %u vCPUs", cfg->cpus,
				   KITE_MAX_CPUS);
	}
	if (cfg->nvfio && cfg->iommu.kind != IOMMU_NONE && cfg->iommu.mode == IOMMU_MODE_EMULATED)
		return usage_error("--vfio behind --iommu vtd,mode=emulated: the host device's DMA "
				   "bypasses kite's emulation; use mode=shadow (or auto)");
	if (cfg->iommufd_fd && !cfg->nvfio)
		return usage_error("--iommufd fd=%s given without a --vfio device",
				   cfg->iommufd_fd);
	if (cfg->hugepages && cfg->memory & ((2ULL << 20) - 1))
		return usage_error("--hugepages needs a memory size that is a multiple of 2M");
	if (cfg->memory < KITE_MIN_MEMORY || cfg->memory > KITE_MAX_MEMORY || cfg->memory & 0xfff) {
		return usage_error("memory size %llu bytes out of range (16M..1T, page multiple)",
				   (unsigned long long)cfg->memory);
	}
	return 0;
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*fail = true;
	return d;
}

int config_copy(struct vm_config *dst, const struct vm_config *src)
{
	bool fail = false;

	*dst = *src;
	dst->kernel = dup_or_null(src->kernel, &fail);
	dst->initrd = dup_or_null(src->initrd, &fail);
	dst->cmdline = dup_or_null(src->cmdline, &fail);
	dst->serial_path = dup_or_null(src->serial_path, &fail);
	dst->api_socket = dup_or_null(src->api_socket, &fail);
	dst->iommufd_fd = dup_or_null(src->iommufd_fd, &fail);
	for (unsigned int i = 0; i < src->nvfio; i++) {
		dst->vfio[i].bdf = dup_or_null(src->vfio[i].bdf, &fail);
		dst->vfio[i].path = dup_or_null(src->vfio[i].path, &fail);
		dst->vfio[i].fd_name = dup_or_null(src->vfio[i].fd_name, &fail);
	}
	for (unsigned int i = 0; i < src->ndisks; i++) {
		dst->disks[i].path = dup_or_null(src->disks[i].path, &fail);
		dst->disks[i].fd_name = dup_or_null(src->disks[i].fd_name, &fail);
	}
	for (unsigned int i = 0; i < src->nnets; i++) {
		dst->nets[i].tap = dup_or_null(src->nets[i].tap, &fail);
		dst->nets[i].fd_name = dup_or_null(src->nets[i].fd_name, &fail);
	}
	if (fail) {
		config_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* The exact size in the largest unit that divides it, as parse_size reads it back. */
static json_t *size_json(uint64_t v)
{
	static const char units[] = "KMGT";
	char buf[32];
	int u = -1;

	while (u < 3 && v && !(v & ((1ULL << (10 * (u + 2))) - 1)))
		u++;
	if (u < 0)
		snprintf(buf, sizeof(buf), "%lluB", (unsigned long long)v);
	else
		snprintf(buf, sizeof(buf), "%llu%c", (unsigned long long)(v >> (10 * (u + 1))),
			 units[u]);
	/* parse_size has no byte unit: a size that is not a KiB multiple is never valid. */
	return json_string(u < 0 ? "0" : buf);
}

static int obj_set(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

json_t *config_to_json(const struct vm_config *cfg)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	json_t *o = json_object(), *disks = json_array(), *nets = json_array();
	int err = !o || !disks || !nets;
	char mac[18];

	if (err)
		goto fail;
	if (cfg->kernel)
		err |= obj_set(o, "kernel", json_string(cfg->kernel));
	if (cfg->initrd)
		err |= obj_set(o, "initrd", json_string(cfg->initrd));
	if (cfg->cmdline)
		err |= obj_set(o, "cmdline", json_string(cfg->cmdline));
	err |= obj_set(o, "memory", size_json(cfg->memory));
	err |= obj_set(o, "cpus", json_integer(cfg->cpus));
	if (cfg->serial == SERIAL_FILE) {
		char *s = NULL;

		err |= asprintf(&s, "file:%s", cfg->serial_path ? cfg->serial_path : "") < 0;
		err |= obj_set(o, "serial", s ? json_string(s) : NULL);
		free(s);
	} else {
		err |= obj_set(o, "serial",
			       json_string(cfg->serial == SERIAL_NONE ? "none" : "stdio"));
	}
	err |= obj_set(o, "timeout", json_real(cfg->timeout));
	if (cfg->log_level >= 0 && cfg->log_level <= LOG_DEBUG)
		err |= obj_set(o, "log_level", json_string(levels[cfg->log_level]));
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		json_t *e = json_object();

		err |= !e || json_array_append_new(disks, e);
		if (!e)
			break;
		err |= obj_set(e, d->fd_name ? "fd" : "path",
			       json_string(d->fd_name ? d->fd_name : d->path));
		err |= obj_set(e, "readonly", json_boolean(d->readonly));
		err |= obj_set(e, "cache", json_string(d->cache_none ? "none" : "writeback"));
	}
	for (unsigned int i = 0; i < cfg->nnets; i++) {
		const struct net_config *n = &cfg->nets[i];
		json_t *e = json_object();

		err |= !e || json_array_append_new(nets, e);
		if (!e)
			break;
		err |= obj_set(e, n->fd_name ? "fd" : "tap",
			       json_string(n->fd_name ? n->fd_name : n->tap));
		if (n->has_mac) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
				 n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
			err |= obj_set(e, "mac", json_string(mac));
		}
	}
	err |= json_object_set(o, "disk", disks);
	err |= json_object_set(o, "net", nets);
	if (cfg->nvfio) {
		json_t *vl = json_array();

		err |= !vl;
		for (unsigned int i = 0; vl && i < cfg->nvfio; i++) {
			const struct vfio_config *v = &cfg->vfio[i];
			json_t *e = json_object();

			err |= !e || json_array_append_new(vl, e);
			if (!e)
				break;
			err |= obj_set(e,
				       v->bdf	 ? "bdf"
				       : v->path ? "path"
						 : "fd",
				       json_string(v->bdf    ? v->bdf
						   : v->path ? v->path
							     : v->fd_name));
		}
		err |= obj_set(o, "vfio", vl);
	}
	if (cfg->iommufd_fd) {
		json_t *e = json_object();

		err |= obj_set(e, "fd", json_string(cfg->iommufd_fd));
		err |= obj_set(o, "iommufd", e);
	}
	err |= obj_set(o, "console",
		       json_string(cfg->console == CONSOLE_VIRTIO ? "virtio" : "serial"));
	err |= obj_set(o, "rng", json_boolean(cfg->rng));
	err |= obj_set(o, "hugepages", json_boolean(cfg->hugepages));
	if (cfg->iommu.kind == IOMMU_VTD) {
		static const char *const modes[] = { "auto", "emulated", "shadow", "nested" };

		err |= obj_set(o, "iommu",
			       json_pack("{s:s, s:b, s:i, s:s}", "type", "vtd", "scalable",
					 cfg->iommu.scalable, "aw", (int)cfg->iommu.aw, "mode",
					 modes[cfg->iommu.mode & 3]));
	}
	if (!err) {
		json_decref(disks);
		json_decref(nets);
		return o;
	}
fail:
	json_decref(o);
	json_decref(disks);
	json_decref(nets);
	return NULL;
}
