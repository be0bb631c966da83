/* net_tap.c: a TAP device as the network backend: frames go to and from
 * the host's kernel, which routes or bridges them (needs CAP_NET_ADMIN to
 * create the device, or one made beforehand for the user). Frames carry
 * the virtio-net header both ways (IFF_VNET_HDR), so the host's kernel
 * finishes the guest's checksums and cuts its 64 KiB TCP frames, and
 * hands the guest whole 64 KiB ones when the guest takes them
 * (TUNSETOFFLOAD).
 */
#define _GNU_SOURCE
#include "virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define HDR_LEN ((int)sizeof(struct virtio_net_hdr_v1))

struct tap {
	struct net_backend be;
	int fd;
	uint8_t buf[HDR_LEN + 65536];
};

static void tap_sendv(struct net_backend *b, const struct iovec *iov, int n)
{
	struct tap *t = (struct tap *)b;
	if (writev(t->fd, iov, n) < 0)
		(void)0; /* a full queue, or a header the kernel refuses:
			  * dropped, as a link would */
}

static ssize_t tap_readv(void *arg, const struct iovec *iov, int n)
{
	struct tap *t = arg;
	return readv(t->fd, iov, n);
}

static void tap_offloads(struct net_backend *b, uint64_t features)
{
	struct tap *t = (struct tap *)b;
	unsigned flags = 0;
	if (features & (1ULL << VIRTIO_NET_F_GUEST_CSUM)) {
		flags |= TUN_F_CSUM;
		if (features & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
			flags |= TUN_F_TSO4;
	}
	/* refused: the kernel finishes frames itself, only slower */
	if (ioctl(t->fd, TUNSETOFFLOAD, flags) < 0)
		(void)0;
}

static int tap_fill(struct net_backend *b, struct pollfd *fds, int cap,
		    int *timeout_ms)
{
	struct tap *t = (struct tap *)b;
	(void)timeout_ms;
	if (cap < 1)
		return 0;
	fds[0] = (struct pollfd){t->fd, POLLIN, 0};
	return 1;
}

static void tap_poll(struct net_backend *b, struct pollfd *fds, int n)
{
	struct tap *t = (struct tap *)b;
	if (n < 1 || !(fds[0].revents & POLLIN))
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t r = virtio_net_read_into(b->dev, tap_readv, t);
		if (r == NET_READ_YOURSELF) {
			r = read(t->fd, t->buf, sizeof(t->buf));
			if (r > HDR_LEN)
				virtio_net_deliver(
					b->dev,
					(const struct virtio_net_hdr_v1 *)
						t->buf,
					t->buf + HDR_LEN, (size_t)r - HDR_LEN);
		}
		if (r <= HDR_LEN)
			return;
	}
}

struct net_backend *net_tap_new(const char *ifname)
{
	struct tap *t = calloc(1, sizeof(*t));
	struct ifreq ifr;
	if (!t)
		return NULL;
	if (strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr,
			"fresco: --net tap:%s: the name is longer than "
			"%d characters\n",
			ifname, IFNAMSIZ - 1);
		free(t);
		return NULL;
	}
	/* root could open a name nobody made (a new TAP, unconfigured and
	 * gone with the VM): a mistyped name would cost a DHCP wait */
	if (!if_nametoindex(ifname)) {
		fprintf(stderr,
			"fresco: --net tap:%s: no such network device; "
			"create it first (ip tuntap add dev %s mode tap "
			"user $USER)\n",
			ifname, ifname);
		free(t);
		return NULL;
	}
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	strcpy(ifr.ifr_name, ifname);
	if (t->fd < 0 || ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		fprintf(stderr, "fresco: --net tap:%s: %s; %s\n", ifname,
			e == EINVAL  ? "not a TAP device"
			: e == EBUSY ? "in use by another program"
				     : strerror(e),
			e == EPERM || e == EACCES
				? "it must be made for your user (ip tuntap "
				  "add dev NAME mode tap user $USER) or "
				  "fresco run as root"
			: e == EINVAL ? "give one made with ip tuntap add dev "
					"NAME mode tap"
			: e == EBUSY  ? "another VM may have it; give each "
					"its own"
				      : "check /dev/net/tun (modprobe tun)");
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	int hdr_len = HDR_LEN;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		fprintf(stderr,
			"fresco: --net tap:%s: the host's TAP driver does "
			"not take the virtio-net header (%s); use --net "
			"user\n",
			ifname, strerror(errno));
		close(t->fd);
		free(t);
		return NULL;
	}
	/* the guest's MTU is the device's (jumbo frames on a bridge) */
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock >= 0 && ioctl(sock, SIOCGIFMTU, &ifr) == 0 &&
	    ifr.ifr_mtu >= 576 && ifr.ifr_mtu <= NET_USER_MTU)
		t->be.mtu = (unsigned)ifr.ifr_mtu;
	if (sock >= 0)
		close(sock);
	t->be.sendv = tap_sendv;
	t->be.offloads = tap_offloads;
	t->be.fill = tap_fill;
	t->be.poll = tap_poll;
	return &t->be;
}
