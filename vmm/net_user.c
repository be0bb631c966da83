/* net_user.c: user-mode networking through libslirp (what QEMU's -netdev
 * user uses): no privileges, NAT to the host's network, DHCP and DNS for
 * the guest, published ports as host sockets forwarded into the guest.
 *
 * Network 10.0.2.0/24 as QEMU lays it out: the host (gateway) 10.0.2.2,
 * DNS 10.0.2.3, the guest 10.0.2.15. libslirp is not thread-safe; every
 * call into it is made on the network device's thread.
 */
#define _GNU_SOURCE
#include "virtio.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/virtio_net.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define TIMERS_MAX 16

struct slirp_timer {
	int used;
	int64_t expire_ms; /* -1: not armed */
	SlirpTimerCb cb;
	void *cb_opaque;
};

struct user {
	struct net_backend be;
	Slirp *slirp;
	struct slirp_timer timers[TIMERS_MAX];
	/* between fill and poll: the descriptors libslirp asked for */
	struct pollfd *fds;
	int nfds, cap;
	int said_error;
};

/* ---- callbacks from libslirp ---- */

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct user *u = opaque;
	/* libslirp built the frame here, its checksums too: nothing it
	 * crossed could have changed it, so the guest need not check it
	 * again (a third of its time receiving) */
	static const struct virtio_net_hdr_v1 built = {
		.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	/* dropped if the guest has no room */
	virtio_net_deliver(u->be.dev, &built, buf, len);
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
	struct user *u = opaque;
	if (!u->said_error++)
		fprintf(stderr, "fresco: user network: the guest sent %s\n",
			msg);
}

static int64_t clock_get_ns(void *opaque)
{
	(void)opaque;
	return (int64_t)monotonic_ns();
}

static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct user *u = opaque;
	for (int i = 0; i < TIMERS_MAX; i++)
		if (!u->timers[i].used) {
			u->timers[i] =
				(struct slirp_timer){1, -1, cb, cb_opaque};
			return &u->timers[i];
		}
	fprintf(stderr, "fresco: user network: out of timers\n");
	abort(); /* libslirp makes one or two */
}

static void timer_free(void *timer, void *opaque)
{
	(void)opaque;
	((struct slirp_timer *)timer)->used = 0;
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

static void register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_get_ns,
	.timer_new = timer_new,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = register_poll_fd,
	.unregister_poll_fd = register_poll_fd,
	.notify = notify,
};

/* ---- the backend ---- */

static void user_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
	struct user *u = (struct user *)b;
	slirp_input(u->slirp, frame, (int)len);
}

static int add_poll(int fd, int events, void *opaque)
{
	struct user *u = opaque;
	if (u->nfds == u->cap)
		return -1; /* not watched this round */
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	u->fds[u->nfds] = (struct pollfd){fd, ev, 0};
	return u->nfds++;
}

static int get_revents(int idx, void *opaque)
{
	struct user *u = opaque;
	if (idx < 0 || idx >= u->nfds)
		return 0;
	short ev = u->fds[idx].revents;
	int r = 0;
	if (ev & POLLIN)
		r |= SLIRP_POLL_IN;
	if (ev & POLLOUT)
		r |= SLIRP_POLL_OUT;
	if (ev & POLLPRI)
		r |= SLIRP_POLL_PRI;
	if (ev & POLLERR)
		r |= SLIRP_POLL_ERR;
	if (ev & POLLHUP)
		r |= SLIRP_POLL_HUP;
	return r;
}

static int user_fill(struct net_backend *b, struct pollfd *fds, int cap,
		     int *timeout_ms)
{
	struct user *u = (struct user *)b;
	uint32_t timeout = UINT32_MAX;
	u->fds = fds;
	u->nfds = 0;
	u->cap = cap;
	slirp_pollfds_fill(u->slirp, &timeout, add_poll, u);
	int64_t now = (int64_t)(monotonic_ns() / 1000000);
	for (int i = 0; i < TIMERS_MAX; i++) {
		struct slirp_timer *t = &u->timers[i];
		if (!t->used || t->expire_ms < 0)
			continue;
		int64_t wait = t->expire_ms > now ? t->expire_ms - now : 0;
		if (wait < timeout)
			timeout = (uint32_t)wait;
	}
	if (timeout != UINT32_MAX &&
	    (*timeout_ms < 0 || (int64_t)timeout < *timeout_ms))
		*timeout_ms = (int)timeout;
	return u->nfds;
}

static void user_poll(struct net_backend *b, struct pollfd *fds, int n)
{
	struct user *u = (struct user *)b;
	u->fds = fds;
	u->nfds = n;
	slirp_pollfds_poll(u->slirp, 0, get_revents, u);
	int64_t now = (int64_t)(monotonic_ns() / 1000000);
	for (int i = 0; i < TIMERS_MAX; i++) {
		struct slirp_timer *t = &u->timers[i];
		if (t->used && t->expire_ms >= 0 && t->expire_ms <= now) {
			t->expire_ms = -1;
			t->cb(t->cb_opaque);
		}
	}
}

/*
 * libslirp listens for a published TCP port with a backlog of one: when
 * clients connect at once (wrk's 64), the host's kernel drops the SYNs
 * beyond it and they come again a second later. A second listen() on
 * the socket widens its queue; the sockets are found among the
 * monitor's descriptors by their port, as libslirp does not tell them.
 */
static void widen_backlogs(const struct vm_forward *fwd, int nfwd)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	if (!dir)
		return;
	while ((e = readdir(dir))) {
		int fd = atoi(e->d_name), listening = 0;
		socklen_t len = sizeof(listening);
		struct sockaddr_in a;
		socklen_t alen = sizeof(a);
		if (fd < 3 || fd == dirfd(dir) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
			       &len) < 0 ||
		    !listening ||
		    getsockname(fd, (struct sockaddr *)&a, &alen) < 0 ||
		    a.sin_family != AF_INET)
			continue;
		for (int i = 0; i < nfwd; i++)
			if (!fwd[i].udp &&
			    ntohs(a.sin_port) == fwd[i].host_port)
				listen(fd, SOMAXCONN);
	}
	closedir(dir);
}

struct net_backend *net_user_new(const struct vm_forward *fwd, int nfwd)
{
	struct user *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	SlirpConfig cfg = {
		.version = 1,
		.in_enabled = true,
		.if_mtu = NET_USER_MTU,
		.if_mru = NET_USER_MTU,
	};
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, NET_GUEST_IP, &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	cfg.vhostname = "fresco";
	u->slirp = slirp_new(&cfg, &callbacks, u);
	if (!u->slirp) {
		fprintf(stderr, "fresco: user network: libslirp failed to "
				"start\n");
		free(u);
		return NULL;
	}
	struct in_addr guest;
	inet_pton(AF_INET, NET_GUEST_IP, &guest);
	for (int i = 0; i < nfwd; i++) {
		struct in_addr host = {INADDR_ANY};
		if (fwd[i].host_addr[0] &&
		    inet_pton(AF_INET, fwd[i].host_addr, &host) != 1) {
			fprintf(stderr,
				"fresco: --publish %s:%u: not an IPv4 "
				"address\n",
				fwd[i].host_addr, fwd[i].host_port);
			return NULL;
		}
		if (slirp_add_hostfwd(u->slirp, fwd[i].udp, host,
				      fwd[i].host_port, guest,
				      fwd[i].guest_port) < 0) {
			fprintf(stderr,
				"fresco: --publish %u:%u/%s: the host's port "
				"%u cannot be used (in use, or needs root); "
				"choose another\n",
				fwd[i].host_port, fwd[i].guest_port,
				fwd[i].udp ? "udp" : "tcp", fwd[i].host_port);
			return NULL;
		}
	}
	widen_backlogs(fwd, nfwd);
	u->be.send = user_send;
	u->be.mtu = NET_USER_MTU;
	u->be.fill = user_fill;
	u->be.poll = user_poll;
	return &u->be;
}
