/* httpd.c: a small static HTTP/1.1 server on epoll: non-blocking sockets,
 * keep-alive, files from a directory. For curl and wrk from the host.
 *
 *   httpd PORT DIR     serve DIR until killed; "/" is a short greeting
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONN 1024
#define REQ_MAX 4096

struct conn {
	int fd;
	char req[REQ_MAX];
	size_t req_len;
	char head[256];
	size_t head_len, head_off;
	int file;	 /* -1: body from memory */
	off_t body_left; /* bytes still to send */
	const char *mem; /* body from memory */
	int keep_alive;
};

static struct conn *conns[65536];
static const char *root;
static char chunk[65536];
static const char greeting[] = "hello from a Fresco VM\n";

static void finish(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->file >= 0)
		close(c->file);
	conns[c->fd] = NULL;
	free(c);
}

/* Parse a complete request in c->req and set up the response. */
static void respond(struct conn *c)
{
	char method[8], path[1024], version[16];
	c->file = -1;
	c->mem = NULL;
	c->keep_alive = strstr(c->req, "HTTP/1.1") &&
			!strcasestr(c->req, "Connection: close");
	if (sscanf(c->req, "%7s %1023s %15s", method, path, version) != 3 ||
	    strcmp(method, "GET") != 0) {
		c->head_len = (size_t)snprintf(c->head, sizeof(c->head),
					       "HTTP/1.1 400 Bad Request\r\n"
					       "Content-Length: 0\r\n\r\n");
		c->body_left = 0;
		c->keep_alive = 0;
		return;
	}
	off_t size = 0;
	int status = 200;
	if (strcmp(path, "/") == 0) {
		c->mem = greeting;
		size = (off_t)strlen(greeting);
	} else {
		char full[2048];
		struct stat st;
		snprintf(full, sizeof(full), "%s%s", root, path);
		if (strstr(path, "..") ||
		    (c->file = open(full, O_RDONLY)) < 0 ||
		    fstat(c->file, &st) < 0 || !S_ISREG(st.st_mode)) {
			if (c->file >= 0)
				close(c->file);
			c->file = -1;
			status = 404;
		} else {
			size = st.st_size;
		}
	}
	c->head_len = (size_t)snprintf(
		c->head, sizeof(c->head),
		"HTTP/1.1 %d %s\r\nContent-Length: %lld\r\n"
		"Connection: %s\r\n\r\n",
		status, status == 200 ? "OK" : "Not Found", (long long)size,
		c->keep_alive ? "keep-alive" : "close");
	c->head_off = 0;
	c->body_left = size;
}

/* Send what can be sent: 1 done with the response, 0 blocked, -1 error */
static int send_some(struct conn *c)
{
	while (c->head_off < c->head_len) {
		ssize_t n = write(c->fd, c->head + c->head_off,
				  c->head_len - c->head_off);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->head_off += (size_t)n;
	}
	while (c->body_left > 0) {
		size_t want = c->body_left < (off_t)sizeof(chunk)
				      ? (size_t)c->body_left
				      : sizeof(chunk);
		const char *src = c->mem;
		if (!src) {
			off_t at = lseek(c->file, 0, SEEK_CUR);
			ssize_t r = read(c->file, chunk, want);
			if (r <= 0)
				return -1;
			want = (size_t)r;
			src = chunk;
			ssize_t n = write(c->fd, src, want);
			if (n < 0) {
				lseek(c->file, at, SEEK_SET);
				return errno == EAGAIN ? 0 : -1;
			}
			if ((size_t)n < want)
				lseek(c->file, at + n, SEEK_SET);
			c->body_left -= n;
			continue;
		}
		ssize_t n = write(c->fd, src, want);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->mem += n;
		c->body_left -= n;
	}
	return 1;
}

static void serve_conn(int ep, struct conn *c, uint32_t events)
{
	for (;;) {
		if (c->head_len) { /* a response under way */
			int r = send_some(c);
			if (r < 0) {
				finish(ep, c);
				return;
			}
			if (r == 0) {
				struct epoll_event ev = {EPOLLOUT | EPOLLIN,
							 {.ptr = c}};
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				return;
			}
			if (c->file >= 0)
				close(c->file);
			c->file = -1;
			c->head_len = 0;
			if (!c->keep_alive) {
				finish(ep, c);
				return;
			}
			struct epoll_event ev = {EPOLLIN, {.ptr = c}};
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
		char *end = memmem(c->req, c->req_len, "\r\n\r\n", 4);
		if (end) {
			size_t used = (size_t)(end + 4 - c->req);
			char saved = c->req[used - 1];
			c->req[used - 1] = '\0';
			respond(c);
			c->req[used - 1] = saved;
			memmove(c->req, c->req + used, c->req_len - used);
			c->req_len -= used;
			continue;
		}
		if (c->req_len == REQ_MAX - 1) {
			finish(ep, c);
			return;
		}
		ssize_t n = read(c->fd, c->req + c->req_len,
				 REQ_MAX - 1 - c->req_len);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			finish(ep, c);
			return;
		}
		if (n < 0)
			return;
		c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
	}
	(void)events;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: httpd PORT DIR\n");
		return 2;
	}
	root = argv[2];
	signal(SIGPIPE, SIG_IGN);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 128) < 0)
		return perror("listen"), 1;
	int ep = epoll_create1(0);
	struct epoll_event ev = {EPOLLIN, {.ptr = NULL}};
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	printf("serving %s on %s\n", root, argv[1]);
	fflush(stdout);
	struct epoll_event out[64];
	for (;;) {
		int n = epoll_wait(ep, out, 64, -1);
		for (int i = 0; i < n; i++) {
			if (!out[i].data.ptr) {
				int fd;
				while ((fd = accept4(l, NULL, NULL,
						     SOCK_NONBLOCK)) >= 0) {
					struct conn *c = calloc(1, sizeof(*c));
					if (!c || fd >= 65536) {
						close(fd);
						free(c);
						continue;
					}
					c->fd = fd;
					c->file = -1;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
						   &one, sizeof(one));
					conns[fd] = c;
					struct epoll_event cev = {EPOLLIN,
								  {.ptr = c}};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
				}
				continue;
			}
			serve_conn(ep, out[i].data.ptr, out[i].events);
		}
	}
}
