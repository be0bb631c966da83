/* proc_net.c: /proc/net, the files netstat, route, arp and ifconfig read:
 * dev (each interface's counters), route (the main table), arp (the ARP
 * cache), tcp, udp, raw and unix (the sockets), snmp (the protocols'
 * counters), and tcp6, udp6 and raw6 with their headings alone (there is
 * no IPv6). Each has Linux's layout, line
 * widths and hexadecimal forms, from the view NETLINK_ROUTE answers from
 * (if_view), so the two never disagree. Sockets show inode 0 and uid 0.
 */
#include "fs/fs.h"
#include "net/socket.h"

#define TCP_LINE 149 /* Linux pads /proc/net/tcp's lines to this */
#define UDP_LINE 127 /* and udp's, raw's and route's */
#define RTF_UP 0x1
#define RTF_GATEWAY 0x2
#define ATF_COM 0x2
#define CLOCK_TICK_NS 10000000ULL /* USER_HZ: 100 */
#define ACK_TICKS 4UL	/* the delayed ACK's 40 ms, as Linux shows it */
#define LISTEN_CWND 10u /* what Linux shows for a listener */
#define SOCK_RAW_NR 3
#define RT_TABLE_MAIN_NR 254
#define RTN_UNICAST_NR 1

/* Pad the line begun at (start) with spaces to (width), then end it. */
static void pad(struct proc_text *t, size_t start, size_t width)
{
	while (t->len - start < width && t->len + 2 < t->cap)
		t->buf[t->len++] = ' ';
	proc_add(t, "\n");
}

static const char *link_name(const struct rtnl_view *v, int index)
{
	for (int i = 0; i < v->nlinks; i++)
		if (v->links[i].index == index)
			return v->links[i].name;
	return "*";
}

/* /proc/net/dev; reading it brings the device up, as a first socket
 * does. The loopback receives what it sends. */
static size_t gen_dev(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	struct rtnl_link links[IF_MAX];
	struct rtnl_view v;
	netdev_start();
	if_view(links, &v);
	proc_add(&t, "Inter-|   Receive                            "
		     "                    |  Transmit\n");
	proc_add(&t, " face |bytes    packets errs drop fifo frame compressed "
		     "multicast|bytes    packets errs drop fifo colls carrier "
		     "compressed\n");
	for (int i = 0; i < v.nlinks; i++) {
		const struct rtnl_link *l = &links[i];
		proc_add(&t,
			 "%6s: %7lu %7lu %4lu %4lu %4lu %5lu %10lu %9lu "
			 "%8lu %7lu %4lu %4lu %4lu %5lu %7lu %10lu\n",
			 l->name, l->rx_bytes, l->rx_packets, l->rx_errors,
			 l->rx_dropped, 0UL, 0UL, 0UL, 0UL, l->tx_bytes,
			 l->tx_packets, 0UL, l->tx_dropped, 0UL, 0UL, 0UL, 0UL);
	}
	return t.len;
}

/* /proc/net/route: the main table's routes, addresses as the 32-bit
 * values they are in memory. */
static size_t gen_route(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	struct rtnl_link links[IF_MAX];
	struct rtnl_route r[RTNL_ROUTES_MAX];
	struct rtnl_view v;
	if_view(links, &v);
	proc_add(&t, "%-127s\n",
		 "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\t"
		 "Mask\t\tMTU\tWindow\tIRTT");
	int n = rtnl_routes(&v, r);
	for (int i = 0; i < n; i++) {
		if (r[i].table != RT_TABLE_MAIN_NR ||
		    r[i].type != RTN_UNICAST_NR)
			continue;
		uint32_t mask =
			r[i].dst_len
				? __builtin_bswap32(~0u << (32 - r[i].dst_len))
				: 0;
		size_t start = t.len;
		proc_add(&t, "%s\t%08X\t%08X\t%04X\t0\t0\t0\t%08X\t0\t0\t0",
			 link_name(&v, r[i].oif), r[i].dst, r[i].gw,
			 RTF_UP | (r[i].gw ? RTF_GATEWAY : 0), mask);
		pad(&t, start, UDP_LINE);
	}
	return t.len;
}

/* /proc/net/arp: the ARP cache's live entries. */
static size_t gen_arp(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	struct rtnl_link links[IF_MAX];
	struct rtnl_view v;
	if_view(links, &v);
	proc_add(&t, "IP address       HW type     Flags       HW address    "
		     "        Mask     Device\n");
	for (int i = 0; i < v.nneighs; i++) {
		const struct rtnl_neigh *n = &v.neighs[i];
		const uint8_t *a = (const uint8_t *)&n->ip, *m = n->mac;
		char ip[16];
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		proc_add(&t,
			 "%-16s 0x%-10x0x%-10x%02x:%02x:%02x:%02x:%02x:%02x"
			 "     *        %s\n",
			 ip, 1u, ATF_COM, m[0], m[1], m[2], m[3], m[4], m[5],
			 link_name(&v, n->index));
	}
	return t.len;
}

static size_t gen_tcp(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	int sl = 0;
	net_poll();
	proc_add(&t, "%-149s\n",
		 "  sl  local_address rem_address   st tx_queue rx_queue tr "
		 "tm->when retrnsmt   uid  timeout inode");
	for (struct sock *s = all_socks; s; s = s->next) {
		const struct tcp_cb *cb = s->tcp;
		if (s->proto != IP_PROTO_TCP || !cb ||
		    (!s->bound && !s->connected && !s->listening))
			continue;
		uint32_t mss = cb->mss ? cb->mss : TCP_MSS_DEFAULT;
		int ssthresh = cb->ssthresh == 0xffffffffu
				       ? -1
				       : (int)(cb->ssthresh / mss);
		size_t start = t.len;
		proc_add(&t,
			 "%4d: %08X:%04X %08X:%04X %02X %08X:%08X 00:00000000 "
			 "00000000 %5u %8d %lu %d %016x %lu %lu %u %u %d",
			 sl++, s->lip, net16(s->lport), s->rip, net16(s->rport),
			 tcp_sock_linux_state(s),
			 s->listening ? 0 : cb->snd.len,
			 s->listening ? (uint32_t)s->acceptq_len : cb->rcv.len,
			 0u, 0, 0UL, 1, 0u,
			 (unsigned long)(cb->rto / CLOCK_TICK_NS),
			 s->listening ? 0UL : ACK_TICKS, 0u,
			 s->listening ? LISTEN_CWND : cb->cwnd / mss,
			 s->listening ? 0 : ssthresh);
		pad(&t, start, TCP_LINE);
	}
	return t.len;
}

/* udp and raw share a layout; raw's port is its protocol. */
static size_t gen_dgram(char *buf, size_t cap, int raw)
{
	struct proc_text t = {buf, cap, 0};
	int sl = 0;
	net_poll();
	proc_add(&t, "%-127s\n",
		 "   sl  local_address rem_address   st tx_queue rx_queue tr "
		 "tm->when retrnsmt   uid  timeout inode ref pointer drops");
	for (struct sock *s = all_socks; s; s = s->next) {
		if (raw ? s->type != SOCK_RAW_NR
			: s->proto != IP_PROTO_UDP || !s->bound)
			continue;
		size_t start = t.len;
		proc_add(&t,
			 "%5d: %08X:%04X %08X:%04X %02X %08X:%08X 00:00000000 "
			 "00000000 %5u %8d %lu %d %016x %u",
			 sl++, s->lip,
			 raw ? (unsigned)s->proto : net16(s->lport), s->rip,
			 raw ? 0u : net16(s->rport), s->connected ? 1u : 7u, 0u,
			 (uint32_t)s->queued, 0u, 0, 0UL, 2, 0u, 0u);
		pad(&t, start, UDP_LINE);
	}
	return t.len;
}

static size_t gen_udp(char *buf, size_t cap)
{
	return gen_dgram(buf, cap, 0);
}

static size_t gen_raw(char *buf, size_t cap)
{
	return gen_dgram(buf, cap, 1);
}

static size_t gen_unix(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	unix_proc(&t);
	return t.len;
}

/* A "Name: field field ..." line, then "Name: value value ...": the
 * (n) fields and their values. */
static void mib_lines(struct proc_text *t, const char *name,
		      const char *const *fields, const long long *values, int n)
{
	proc_add(t, "%s:", name);
	for (int i = 0; i < n; i++)
		proc_add(t, " %s", fields[i]);
	proc_add(t, "\n%s:", name);
	for (int i = 0; i < n; i++)
		proc_add(t, " %lld", values[i]);
	proc_add(t, "\n");
}

#define MIB(t, name, fields, ...)                                          \
	do {                                                               \
		const long long v_[] = {__VA_ARGS__};                      \
		_Static_assert(sizeof(v_) / sizeof(v_[0]) ==               \
				       sizeof(fields) / sizeof(fields[0]), \
			       name ": a value for each field");           \
		mib_lines(t, name, fields, v_,                             \
			  (int)(sizeof(v_) / sizeof(v_[0])));              \
	} while (0)

static const char *const ip_fields[] = {
	"Forwarding",	"DefaultTTL",	 "InReceives",	    "InHdrErrors",
	"InAddrErrors", "ForwDatagrams", "InUnknownProtos", "InDiscards",
	"InDelivers",	"OutRequests",	 "OutDiscards",	    "OutNoRoutes",
	"ReasmTimeout", "ReasmReqds",	 "ReasmOKs",	    "ReasmFails",
	"FragOKs",	"FragFails",	 "FragCreates",	    "OutTransmits"};
static const char *const icmp_fields[] = {
	"InMsgs",	   "InErrors",		 "InCsumErrors",
	"InDestUnreachs",  "InTimeExcds",	 "InParmProbs",
	"InSrcQuenchs",	   "InRedirects",	 "InEchos",
	"InEchoReps",	   "InTimestamps",	 "InTimestampReps",
	"InAddrMasks",	   "InAddrMaskReps",	 "OutMsgs",
	"OutErrors",	   "OutRateLimitGlobal", "OutRateLimitHost",
	"OutDestUnreachs", "OutTimeExcds",	 "OutParmProbs",
	"OutSrcQuenchs",   "OutRedirects",	 "OutEchos",
	"OutEchoReps",	   "OutTimestamps",	 "OutTimestampReps",
	"OutAddrMasks",	   "OutAddrMaskReps"};
static const char *const tcp_fields[] = {
	"RtoAlgorithm", "RtoMin",	"RtoMax",	"MaxConn",
	"ActiveOpens",	"PassiveOpens", "AttemptFails", "EstabResets",
	"CurrEstab",	"InSegs",	"OutSegs",	"RetransSegs",
	"InErrs",	"OutRsts",	"InCsumErrors"};
static const char *const udp_fields[] = {
	"InDatagrams",	"NoPorts",	"InErrors",
	"OutDatagrams", "RcvbufErrors", "SndbufErrors",
	"InCsumErrors", "IgnoredMulti", "MemErrors"};

/* IcmpMsg: the types seen, in then out, sixteen to a line pair, as
 * Linux's icmpmsg_put; nothing if none was. */
static void icmp_msg_lines(struct proc_text *t)
{
	const char *names[16];
	long long values[16];
	char text[16][16];
	int n = 0;
	for (int i = 0; i < 2 * ICMP_TYPES; i++) {
		int in = i < ICMP_TYPES, type = i % ICMP_TYPES;
		uint64_t v = in ? net_mib.icmp.in_type[type]
				: net_mib.icmp.out_type[type];
		if (v) {
			snprintf(text[n], sizeof(text[n]), "%sType%d",
				 in ? "In" : "Out", type);
			names[n] = text[n];
			values[n++] = (long long)v;
		}
		if (n == 16 || (i == 2 * ICMP_TYPES - 1 && n)) {
			mib_lines(t, "IcmpMsg", names, values, n);
			n = 0;
		}
	}
}

/* /proc/net/snmp: the counters of IP, ICMP, TCP and UDP (struct
 * net_mib, tcp_mib) in Linux's layout; what is never done here (IP
 * forwarding, reassembly, UDP-Lite) shows as zero. */
static size_t gen_snmp(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	const typeof(net_mib.ip) *ip = &net_mib.ip;
	const typeof(net_mib.icmp) *ic = &net_mib.icmp;
	const uint32_t *in = ic->in_type, *out = ic->out_type;
	net_poll();
	MIB(&t, "Ip", ip_fields, 2, 64, ip->in_receives, ip->in_hdr_errors,
	    ip->in_addr_errors, 0, ip->in_unknown_protos, 0, ip->in_delivers,
	    ip->out_requests, ip->out_discards, ip->out_no_routes, 0,
	    ip->reasm_reqds, 0, ip->reasm_fails, 0, 0, 0, ip->out_transmits);
	MIB(&t, "Icmp", icmp_fields, ic->in_msgs, ic->in_errors,
	    ic->in_csum_errors, in[3], in[11], in[12], in[4], in[5], in[8],
	    in[0], in[13], in[14], in[17], in[18], ic->out_msgs, ic->out_errors,
	    ic->out_rate_limit_global, 0, out[3], out[11], out[12], out[4],
	    out[5], out[8], out[0], out[13], out[14], out[17], out[18]);
	icmp_msg_lines(&t);
	const struct tcp_mib *tc = &tcp_mib;
	MIB(&t, "Tcp", tcp_fields, 1, (long long)(TCP_RTO_MIN / 1000000),
	    (long long)(TCP_RTO_MAX / 1000000), -1, tc->active_opens,
	    tc->passive_opens, tc->attempt_fails, tc->estab_resets,
	    tcp_sock_established(), tc->in_segs, tc->out_segs, tc->retrans_segs,
	    tc->in_errs, tc->out_rsts, tc->in_csum_errors);
	const typeof(net_mib.udp) *u = &net_mib.udp;
	MIB(&t, "Udp", udp_fields, u->in_datagrams, u->no_ports, u->in_errors,
	    u->out_datagrams, u->rcvbuf_errors, 0, u->in_csum_errors,
	    u->ignored_multi, 0);
	MIB(&t, "UdpLite", udp_fields, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	return t.len;
}

/* IPv6's tables: their headings, and nothing under them. */
static size_t gen_tcp6(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	proc_add(&t, "  sl  local_address                         "
		     "remote_address                        st tx_queue "
		     "rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
	return t.len;
}

static size_t gen_dgram6(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	proc_add(&t, "  sl  local_address                         "
		     "remote_address                        st tx_queue "
		     "rx_queue tr tm->when retrnsmt   uid  timeout inode ref "
		     "pointer drops\n");
	return t.len;
}

void net_proc_populate(void)
{
	proc_file("/proc/net/dev", gen_dev);
	proc_file("/proc/net/route", gen_route);
	proc_file("/proc/net/arp", gen_arp);
	proc_file("/proc/net/tcp", gen_tcp);
	proc_file("/proc/net/udp", gen_udp);
	proc_file("/proc/net/raw", gen_raw);
	proc_file("/proc/net/unix", gen_unix);
	proc_file("/proc/net/tcp6", gen_tcp6);
	proc_file("/proc/net/udp6", gen_dgram6);
	proc_file("/proc/net/raw6", gen_dgram6);
	proc_file("/proc/net/snmp", gen_snmp);
}
