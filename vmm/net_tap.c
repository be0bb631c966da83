/* net_tap.c: a TAP device as the network backend: frames go to and from
 * the host's kernel, which routes or bridges them (needs CAP_NET_ADMIN to
 * create the device, or one made beforehand for the user).
 */
#define _GNU_SOURCE
#include "virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct tap {
	struct net_backend be;
	int fd;
	uint8_t buf[65536];
};

static void tap_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
	struct tap *t = (struct tap *)b;
	if (write(t->fd, frame, len) < 0)
		(void)0; /* a full queue drops it, as a link would */
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
		ssize_t r = read(t->fd, t->buf, sizeof(t->buf));
		if (r <= 0)
			return;
		virtio_net_deliver(b->dev, t->buf, (size_t)r);
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
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(ifr.ifr_name, ifname);
	if (t->fd < 0 || ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		fprintf(stderr, "fresco: --net tap:%s: %s; %s\n", ifname,
			strerror(e),
			e == EPERM || e == EACCES
				? "create it first (ip tuntap add dev NAME "
				  "mode "
				  "tap user $USER) or run as root"
				: "check /dev/net/tun (modprobe tun)");
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	t->be.send = tap_send;
	t->be.fill = tap_fill;
	t->be.poll = tap_poll;
	return &t->be;
}
