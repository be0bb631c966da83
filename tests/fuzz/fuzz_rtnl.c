/* fuzz_rtnl.c: libFuzzer sends arbitrary request datagrams to the guest's
 * NETLINK_ROUTE answers (kernel/lib/rtnl.c): whatever a program sends,
 * nothing crashes, and every reply is a datagram of whole, well-formed
 * messages carrying the asker's port.
 *
 * Input: one byte of options (bit 0 NETLINK_CAP_ACK, bit 1 a default
 * route, bit 2 eth0 has an address, bits 4-7 how many datagrams the
 * socket takes before its queue is full, 15 for all), then the
 * datagram.
 */
#include "lib/rtnl.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#define PORT 0x1234
#define MAX_INPUT 65536

static int taken, room;

/* A reply datagram: whole messages with this port, attributes within. */
static int check(void *ctx, const void *d, size_t len)
{
	(void)ctx;
	if (len == 0 || len > RTNL_DGRAM_MAX || len % 4)
		abort();
	if (taken++ == room)
		return -105; /* -ENOBUFS */
	int left = (int)len;
	for (const struct nlmsghdr *h = d; left > 0; h = NLMSG_NEXT(h, left)) {
		if (!NLMSG_OK(h, left) || h->nlmsg_pid != PORT)
			abort();
		size_t fixed =
			h->nlmsg_type == RTM_NEWLINK ? sizeof(struct ifinfomsg)
			: h->nlmsg_type == RTM_NEWADDR
				? sizeof(struct ifaddrmsg)
			: h->nlmsg_type == RTM_NEWROUTE ? sizeof(struct rtmsg)
			: h->nlmsg_type == RTM_NEWNEIGH ? sizeof(struct ndmsg)
							: 0;
		if (!fixed)
			continue;
		if (h->nlmsg_len < NLMSG_LENGTH(fixed))
			abort();
		int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(fixed));
		const struct rtattr *a =
			(const void *)((const char *)NLMSG_DATA(h) +
				       NLMSG_ALIGN(fixed));
		for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			;
		if (alen != 0)
			abort(); /* an attribute cut short */
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static union {
		uint32_t align;
		uint8_t b[MAX_INPUT];
	} req;
	if (size < 1 || size - 1 > sizeof(req.b))
		return 0;
	struct rtnl_link links[2] = {
		{.index = 1,
		 .name = "lo",
		 .type = 772,
		 .flags = 0x10049,
		 .mtu = 1500,
		 .prefix = 8,
		 .ip = 0x0100007f,
		 .scope = 254},
		{.index = 2,
		 .name = "eth0",
		 .type = 1,
		 .flags = 0x11043,
		 .mtu = 1500,
		 .prefix = (data[0] & 4) ? 24 : -1,
		 .ip = 0x0f02000a,
		 .ip_brd = 0xff02000a},
	};
	static const struct rtnl_neigh gw = {0x0202000a, {2, 0, 0, 0, 0, 2}, 2};
	struct rtnl_view v = {links, 2,	  (data[0] & 2) ? 0x0202000a : 0,
			      3,     &gw, 1};
	memcpy(req.b, data + 1, size - 1);
	taken = 0;
	room = data[0] >> 4 == 15 ? -1 : data[0] >> 4;
	int r = rtnl_answer(&v, PORT, data[0] & 1 ? RTNL_CAP_ACK : 0, req.b,
			    size - 1, check, NULL);
	if (r != 0 && r != -105)
		abort();
	if ((r == -105) != (room >= 0 && taken > room))
		abort(); /* a refusal not reported, or one made up */
	return 0;
}
