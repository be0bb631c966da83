/* devices.c: the VM's virtio devices: volumes opened, locked, placed on the
 * MMIO bus and announced on the kernel command line.
 *
 * A read-write volume is locked exclusively (flock) and a read-only one
 * shared, so two VMs can never write one file system at once; the lock
 * lasts as long as the monitor.
 */
#define _GNU_SOURCE
#include "virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_volume(const struct vm_disk *disk, uint64_t *size)
{
	int fd = open(disk->path,
		      (disk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		fprintf(stderr, "fresco: volume %s: %s; %s\n", disk->path,
			strerror(e),
			e == ENOENT ? "make one with `fresco volume create "
				      "FILE --size SIZE`"
			: e == EACCES || e == EROFS
				? "attach it read-only with :ro"
				: "check the path");
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 ||
	    (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		fprintf(stderr,
			"fresco: volume %s: not a regular file or block "
			"device; give a file made by `fresco volume create`\n",
			disk->path);
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, size) < 0)
		*size = 0;
	if (*size < 4096) {
		fprintf(stderr,
			"fresco: volume %s: too small (%llu bytes); make one "
			"with `fresco volume create FILE --size SIZE`\n",
			disk->path, (unsigned long long)*size);
		close(fd);
		return -1;
	}
	if (flock(fd, (disk->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		fprintf(stderr,
			"fresco: volume %s is in use by another VM; stop that "
			"VM first, or attach the volume read-only (:ro) in "
			"every VM\n",
			disk->path);
		close(fd);
		return -1;
	}
	return fd;
}

int devices_open(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	size_t cap = strlen(cfg->cmdline) + 1 + 64 * (cfg->ndisks + 2);
	char *cmd = malloc(cap);
	size_t len = 0;

	if (!cmd) {
		fprintf(stderr, "fresco: out of memory\n");
		return -1;
	}
	if (cfg->ndisks > VM_DISK_MAX) {
		fprintf(stderr, "fresco: at most %d volumes per VM\n",
			VM_DISK_MAX);
		free(cmd);
		return -1;
	}
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		uint64_t size;
		int fd = open_volume(&cfg->disks[i], &size);
		if (fd < 0) {
			free(cmd);
			return -1;
		}
		char *name;
		if (asprintf(&name, "vd%c (%s)", 'a' + i, cfg->disks[i].path) <
		    0)
			name = "volume";
		/* the serial (GET_ID) is the file's name, as far as it fits */
		const char *base = strrchr(cfg->disks[i].path, '/');
		struct virtio_dev *d = virtio_blk_new(
			name, fd, size, cfg->disks[i].readonly,
			base ? base + 1 : cfg->disks[i].path, &vm->mem);
		if (!d) {
			free(cmd);
			return -1;
		}
		virtio_dev_place(d, i);
		vm->devs[vm->ndevs++] = d;
		len += (size_t)virtio_cmdline_word(d, cmd + len, cap - len);
		cmd[len++] = ' ';
	}
	if (cfg->net != VM_NET_NONE) {
		struct net_backend *be =
			cfg->net == VM_NET_USER
				? net_user_new(cfg->forwards,
					       (int)cfg->nforwards)
				: net_tap_new(cfg->tap_name);
		uint8_t mac[6] = {0x52, 0x54, 0x00};
		if (!be || getrandom(mac + 3, 3, 0) != 3) {
			free(cmd);
			return -1;
		}
		struct virtio_dev *d =
			virtio_net_new("eth0", be, mac, &vm->mem);
		if (!d) {
			free(cmd);
			return -1;
		}
		virtio_dev_place(d, vm->ndevs);
		vm->devs[vm->ndevs++] = d;
		len += (size_t)virtio_cmdline_word(d, cmd + len, cap - len);
		cmd[len++] = ' ';
	}
	memcpy(cmd + len, cfg->cmdline, strlen(cfg->cmdline) + 1);
	vm->cmdline = cmd;
	return 0;
}

int devices_start(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (virtio_dev_start(vm->devs[i], vm->vm_fd) < 0)
			return -1;
	return 0;
}

void devices_stop(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++)
		virtio_dev_stop(vm->devs[i]);
	for (unsigned i = 0; i < vm->cfg->ndisks && i < vm->ndevs; i++)
		flock(virtio_blk_fd(vm->devs[i]), LOCK_UN);
}

int devices_mmio(struct vm *vm, uint64_t gpa, uint8_t *data, unsigned len,
		 int is_write)
{
	if (gpa < VIRTIO_MMIO_BASE)
		return 0;
	uint64_t slot = (gpa - VIRTIO_MMIO_BASE) / VIRTIO_MMIO_SIZE;
	if (slot >= vm->ndevs)
		return 0;
	struct virtio_dev *d = vm->devs[slot];
	virtio_mmio_access(d, gpa - d->base, data, len, is_write);
	return 1;
}
