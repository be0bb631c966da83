/* control.c: the control socket of a VM's monitor (docs/api.md).
 *
 * A thread of its own accepts one connection at a time and answers one
 * JSON request per connection with one JSON line. It blocks SIGINT and
 * SIGTERM, so that signals sent to the monitor reach the vCPU thread,
 * where they interrupt KVM_RUN. Requests never touch guest memory.
 */
#define _GNU_SOURCE
#include "vmm.h"
#include "virtio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_MAX 4096

static struct vm *served;
static int listen_fd = -1;

static void reply(int fd, json_t *answer)
{
	char *text = json_dumps(answer, JSON_COMPACT);
	if (text) {
		size_t len = strlen(text);
		text[len] = '\n'; /* json_dumps leaves room for the NUL */
		(void)!write(fd, text, len + 1);
		free(text);
	}
	json_decref(answer);
}

static json_t *error(const char *fmt, const char *detail)
{
	char msg[256];
	snprintf(msg, sizeof(msg), fmt, detail);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/* The network device's backend (as --net names it), MAC and address,
 * and its counts; or null without one. */
static json_t *net_state(void)
{
	static const struct {
		unsigned bit;
		const char *name;
	} offloads[] = {
		{VIRTIO_NET_F_CSUM, "csum"},
		{VIRTIO_NET_F_HOST_TSO4, "tso4"},
		{VIRTIO_NET_F_GUEST_CSUM, "guest_csum"},
		{VIRTIO_NET_F_GUEST_TSO4, "guest_tso4"},
		{VIRTIO_NET_F_MRG_RXBUF, "mrg_rxbuf"},
	};
	struct net_stats st;
	for (unsigned i = 0; i < served->ndevs; i++) {
		if (virtio_net_stats(served->devs[i], &st) < 0)
			continue;
		json_t *names = json_array();
		for (unsigned k = 0; k < sizeof(offloads) / sizeof(*offloads);
		     k++)
			if (st.features & (1ULL << offloads[k].bit))
				json_array_append_new(
					names, json_string(offloads[k].name));
		char mode[8 + 16] = "user", mac[18], ip[INET_ADDRSTRLEN];
		if (served->cfg->net == VM_NET_TAP)
			snprintf(mode, sizeof(mode), "tap:%s",
				 served->cfg->tap_name);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 st.mac[0], st.mac[1], st.mac[2], st.mac[3], st.mac[4],
			 st.mac[5]);
		json_t *addr =
			st.ip && inet_ntop(AF_INET, &st.ip, ip, sizeof(ip))
				? json_string(ip)
				: json_null();
		/* published ports as docker ps shows them */
		json_t *ports = json_array();
		for (unsigned k = 0; k < served->cfg->nforwards; k++) {
			const struct vm_forward *f = &served->cfg->forwards[k];
			char port[96];
			snprintf(port, sizeof(port), "%s:%u->%u/%s",
				 f->host_addr[0] ? f->host_addr : "0.0.0.0",
				 f->host_port, f->guest_port,
				 f->udp ? "udp" : "tcp");
			json_array_append_new(ports, json_string(port));
		}
		return json_pack(
			"{s:s, s:s, s:o, s:o, s:o, s:i, s:I, s:I, s:I, s:I, "
			"s:I, s:I, s:I}",
			"mode", mode, "mac", mac, "ip", addr, "ports", ports,
			"offloads", names, "mtu", (int)st.mtu, "rx_frames",
			(json_int_t)st.rx_frames, "rx_bytes",
			(json_int_t)st.rx_bytes, "rx_big",
			(json_int_t)st.rx_big, "tx_frames",
			(json_int_t)st.tx_frames, "tx_bytes",
			(json_int_t)st.tx_bytes, "tx_big",
			(json_int_t)st.tx_big, "dropped",
			(json_int_t)st.dropped);
	}
	return json_null();
}

static json_t *state(void)
{
	uint64_t ns = monotonic_ns();
	json_t *boot =
		served->boot_ns
			? json_integer((json_int_t)(served->boot_ns / 1000))
			: json_null();
	return json_pack("{s:b, s:s, s:i, s:I, s:I, s:o, s:o}", "ok", 1,
			 "state", "running", "pid", (int)getpid(), "uptime_ms",
			 (json_int_t)((ns - served->started_ns) / 1000000),
			 "memory", (json_int_t)served->cfg->mem_size, "boot_us",
			 boot, "net", net_state());
}

static void serve(int fd)
{
	char buf[REQUEST_MAX + 1];
	size_t len = 0;
	ssize_t n;
	json_error_t err;

	while (len < REQUEST_MAX &&
	       (n = read(fd, buf + len, REQUEST_MAX - len)) > 0) {
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	json_t *req = json_loads(buf, JSON_DISABLE_EOF_CHECK, &err);
	const char *op = NULL;
	if (!req) {
		reply(fd, error("not JSON: %s", err.text));
		return;
	}
	if (json_unpack(req, "{s:s}", "op", &op) < 0) {
		reply(fd, error("%s", "a request is {\"op\": \"state\"}, "
				      "\"stop\" or \"kill\""));
	} else if (strcmp(op, "state") == 0) {
		reply(fd, state());
	} else if (strcmp(op, "stop") == 0) {
		/* as SIGTERM to the monitor: passed on to the program */
		pthread_kill((pthread_t)served->vcpu_thread, SIGTERM);
		reply(fd, json_pack("{s:b}", "ok", 1));
	} else if (strcmp(op, "kill") == 0) {
		reply(fd, json_pack("{s:b}", "ok", 1));
		close(fd);
		kill(getpid(), SIGKILL);
	} else {
		reply(fd,
		      error("unknown op '%s'; use state, stop or kill", op));
	}
	json_decref(req);
}

static void *control_thread(void *arg)
{
	sigset_t block;
	(void)arg;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		serve(fd);
		close(fd);
	}
}

/*
 * The address of the socket at (path). Unix socket paths are limited to
 * 108 bytes, so a longer one is reached through its directory:
 * /proc/self/fd/N/NAME, with (*dirfd) left open for the caller to close.
 */
static int socket_address(const char *path, struct sockaddr_un *addr,
			  int *dirfd)
{
	*dirfd = -1;
	addr->sun_family = AF_UNIX;
	if (strlen(path) < sizeof(addr->sun_path)) {
		strcpy(addr->sun_path, path);
		return 0;
	}
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return -1;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return -1;
	int n = snprintf(addr->sun_path, sizeof(addr->sun_path),
			 "/proc/self/fd/%d%s", *dirfd, slash);
	return n < (int)sizeof(addr->sun_path) ? 0 : -1;
}

int control_request(const char *path, const char *op, char *answer, size_t cap)
{
	struct sockaddr_un addr;
	int dirfd, r = -1;
	if (socket_address(path, &addr, &dirfd) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char req[64];
	int n = snprintf(req, sizeof(req), "{\"op\": \"%s\"}\n", op);
	if (fd >= 0 &&
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    write(fd, req, (size_t)n) == n) {
		size_t len = 0;
		ssize_t got;
		while (len + 1 < cap &&
		       (got = read(fd, answer + len, cap - 1 - len)) > 0)
			len += (size_t)got;
		answer[len] = '\0';
		json_t *a = json_loads(answer, JSON_DISABLE_EOF_CHECK, NULL);
		int ok = 0;
		if (a && json_unpack(a, "{s:b}", "ok", &ok) == 0 && ok)
			r = 0;
		json_decref(a);
	}
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return r;
}

int control_start(struct vm *vm, const char *path)
{
	struct sockaddr_un addr;
	pthread_t t;
	int dirfd;

	if (socket_address(path, &addr, &dirfd) < 0) {
		fprintf(stderr, "fresco: control socket %s: cannot be named\n",
			path);
		return -1;
	}
	unlink(path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int bound = listen_fd >= 0 && bind(listen_fd, (struct sockaddr *)&addr,
					   sizeof(addr)) == 0;
	if (dirfd >= 0)
		close(dirfd);
	if (!bound || listen(listen_fd, 8) < 0) {
		fprintf(stderr, "fresco: control socket %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	served = vm;
	if (pthread_create(&t, NULL, control_thread, NULL) != 0) {
		fprintf(stderr, "fresco: cannot start the control thread\n");
		return -1;
	}
	pthread_detach(t);
	return 0;
}
