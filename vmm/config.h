/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM configuration model, shared by the command line, the JSON config
 * file and (later) the control API. Parsing only checks syntax and ranges;
 * nothing here opens files or touches KVM.
 */
#ifndef KITE_VMM_CONFIG_H
#define KITE_VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define KITE_MAX_CPUS 255 /* xAPIC ids in the MADT are 8-bit, 0xff is broadcast */
#define KITE_MIN_MEMORY (16ULL << 20)
#define KITE_MAX_MEMORY (1ULL << 40)
#define KITE_DEFAULT_MEMORY (256ULL << 20)
#define KITE_DEFAULT_CMDLINE "console=ttyS0"

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };
enum console_mode { CONSOLE_SERIAL, CONSOLE_VIRTIO };

#define KITE_MAX_DISKS 8
#define KITE_MAX_NETS 8

struct disk_config {
	char *path;
	char *fd_name; /* fd=NAME instead of path (vmm/config_fd.h) */
	bool readonly;
	bool cache_none; /* cache=none: O_DIRECT; default cache=writeback (host page cache) */
};

struct net_config {
	char *tap;
	char *fd_name; /* fd=NAME: an opened tap instead of tap=NAME */
	uint8_t mac[6];
	bool has_mac;
};

#define KITE_MAX_VFIO 8

/* --vfio: exactly one of the three. */
struct vfio_config {
	char *bdf;     /* 0000:00:04.0: the cdev is found through sysfs */
	char *path;    /* /dev/vfio/devices/vfioN */
	char *fd_name; /* an open cdev fd (vmm/config_fd.h) */
};

/* --iommu vtd[,scalable=on|off][,aw=39|48][,mode=auto|emulated|shadow|nested] */
enum iommu_kind { IOMMU_NONE = 0, IOMMU_VTD };
enum iommu_mode { IOMMU_MODE_AUTO = 0, IOMMU_MODE_EMULATED, IOMMU_MODE_SHADOW, IOMMU_MODE_NESTED };

struct iommu_config {
	enum iommu_kind kind;
	bool scalable;
	unsigned int aw; /* 39 or 48 */
	enum iommu_mode mode;
};

struct vm_config {
	char *kernel;
	char *initrd;
	char *cmdline;
	uint64_t memory;
	unsigned int cpus;
	enum serial_mode serial;
	char *serial_path;
	double timeout; /* seconds; 0 = none */
	struct disk_config disks[KITE_MAX_DISKS];
	unsigned int ndisks;
	struct net_config nets[KITE_MAX_NETS];
	unsigned int nnets;
	enum console_mode console; /* where stdin goes: the UART or virtio-console (hvc0) */
	bool rng;		   /* virtio-rng */
	bool hugepages;		   /* back guest RAM with hugetlbfs pages */
	struct iommu_config iommu;
	struct vfio_config vfio[KITE_MAX_VFIO];
	unsigned int nvfio;
	char *iommufd_fd; /* --iommufd fd=NAME; NULL: kite opens /dev/iommu */
	int log_level;
	int seccomp; /* enum kite_seccomp_mode (vmm/seccomp.h): 0 on, 1 off, 2 log */
	/* Control API (vmm/api/): a socket path to create, or an inherited listening fd. */
	char *api_socket;
	int api_fd;		 /* -1: none */
	struct fd_registry *fds; /* named fds for fd= fields (not owned), may be NULL */
};

enum cli_command { CLI_RUN, CLI_HELP, CLI_VERSION };

void config_init(struct vm_config *cfg);
void config_free(struct vm_config *cfg);

/*
 * Parses "kite COMMAND [flags]". Returns 0 with *cmd set, or a kite exit code
 * (KITE_EXIT_USAGE) after printing a one-line error to stderr.
 */
int cli_parse(int argc, char **argv, struct vm_config *cfg, enum cli_command *cmd);
void cli_usage(FILE *out);

/* Parses a JSON config file into cfg. Returns 0 or KITE_EXIT_USAGE (one line logged). */
int config_load_json(const char *path, struct vm_config *cfg);

/* "512M", "2G", "1048576K", "64" (MiB). Returns 0 or -EINVAL. */
int parse_size(const char *s, uint64_t *out);
int parse_serial(const char *s, struct vm_config *cfg);
/* "path=FILE[,readonly=on|off][,cache=none|writeback]" (a bare FILE is accepted too). 0 or -EINVAL. */
int parse_disk(const char *s, struct disk_config *d);
/* "tap=NAME[,mac=aa:bb:cc:dd:ee:ff]". 0 or -EINVAL. */
int parse_net(const char *s, struct net_config *n);

/* "vtd[,scalable=on|off][,aw=39|48][,mode=...]". 0 or -EINVAL (*@bad names the field). */
int parse_iommu(const char *s, struct iommu_config *c, const char **bad);

/* "bdf=0000:00:04.0" | "path=/dev/vfio/devices/vfio0" | "fd=NAME" (vmm/config_vfio.c). */
int parse_vfio(const char *s, struct vfio_config *v);
/* "fd=NAME" into *@fd_name (replaced). 0 or -EINVAL. */
int parse_iommufd(const char *s, char **fd_name);
bool config_bdf_valid(const char *s);
void vfio_config_free(struct vfio_config *v);
/* "vfio 0000:00:04.0", "vfio /dev/vfio/devices/vfio0" or "vfio fd=NAME" into @buf. */
const char *vfio_config_label(const struct vfio_config *v, char *buf, size_t len);

/* Range checks that need no host resources. Returns 0 or KITE_EXIT_USAGE. */
int config_validate(const struct vm_config *cfg);

/*
 * The shared error path of every config parser: prints "kite: error: MSG" on
 * stderr and returns KITE_EXIT_USAGE, or, while this thread captures errors
 * (the control API), stores the first MSG in the capture buffer instead.
 */
int config_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Starts (@buf) or stops (NULL) capturing this thread's config errors. */
void config_capture_errors(char *buf, size_t len);

struct json_t;
/*
 * Applies a config-file object (a --config file's top level, or the API's
 * configure params) to @cfg. A key present replaces the earlier value; a
 * "disk" or "net" array replaces the whole list. @origin names the source in
 * messages ("config ORIGIN: ..."). 0 or KITE_EXIT_USAGE.
 */
int config_apply_json(struct json_t *root, const char *origin, struct vm_config *cfg);
/* The config as a --config file would hold it (new reference, NULL on ENOMEM). */
struct json_t *config_to_json(const struct vm_config *cfg);
/* Deep copy (@dst is overwritten, not freed). 0 or -ENOMEM. */
int config_copy(struct vm_config *dst, const struct vm_config *src);
/* Does the config ask for the control API (--api-socket / --api-fd)? */
bool config_has_api(const struct vm_config *cfg);

#endif
