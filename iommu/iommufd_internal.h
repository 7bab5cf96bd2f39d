/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by iommu/iommufd.c and iommu/iommufd_viommu.c only; users include iommu/iommufd.h. */
#ifndef KITE_IOMMU_IOMMUFD_INTERNAL_H
#define KITE_IOMMU_IOMMUFD_INTERNAL_H

#include "iommu/iommufd.h"

/* One ioctl on the iommufd through h->ioctl: >= 0 or -errno. */
int host_iommu_ioctl(struct host_iommu *h, unsigned long request, void *arg);

#endif
