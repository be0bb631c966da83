/* resolve.c: name resolution as programs do it (getaddrinfo), against a
 * DNS server this program runs on 127.0.0.1:53 in a child, named in
 * /etc/resolv.conf. glibc's resolver sets IP_RECVERR, sends the A and
 * AAAA questions with one sendmmsg and reads with poll, FIONREAD and
 * recvfrom; musl's sends them with sendto. Only in a VM: it rewrites
 * /etc/resolv.conf.
 */
#define _GNU_SOURCE
#include "guest.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define NAME "svc.test"
#define ADDR "192.0.2.7"

/* The question's name in (q) (from byte 12 of a query of (len)) as
 * dotted text into (out); its end in (q), or 0 if malformed. */
static size_t question_name(const uint8_t *q, size_t len, char *out, size_t cap)
{
	size_t at = 12, o = 0;
	while (at < len && q[at]) {
		size_t n = q[at++];
		if (n > 63 || at + n > len || o + n + 2 > cap)
			return 0;
		if (o)
			out[o++] = '.';
		memcpy(out + o, q + at, n);
		o += n;
		at += n;
	}
	out[o] = 0;
	return at + 5 <= len ? at + 5 : 0; /* the root, type and class */
}

/* Answer queries on (fd) until killed: an A record for NAME, no
 * records for its other types, NXDOMAIN for other names. */
static void serve(int fd)
{
	uint8_t q[512], r[600];
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t len = recvfrom(fd, q, sizeof(q), 0,
				       (struct sockaddr *)&from, &flen);
		char name[256];
		size_t end = len > 12 ? question_name(q, (size_t)len, name,
						      sizeof(name))
				      : 0;
		if (!end)
			continue;
		int type = q[end - 4] << 8 | q[end - 3];
		int known = !strcmp(name, NAME);
		int answer = known && type == 1;
		memcpy(r, q, end);
		r[2] = 0x81;				  /* a response, RD */
		r[3] = (uint8_t)(0x80 | (known ? 0 : 3)); /* RA, NXDOMAIN */
		r[6] = 0, r[7] = (uint8_t)answer;	  /* answers */
		r[8] = r[9] = r[10] = r[11] = 0;
		size_t n = end;
		if (answer) {
			static const uint8_t rr[] = {0xc0, 12, 0, 1,  0, 1,
						     0,	   0,  0, 60, 0, 4};
			memcpy(r + n, rr, sizeof(rr));
			n += sizeof(rr);
			inet_pton(AF_INET, ADDR, r + n);
			n += 4;
		}
		sendto(fd, r, n, 0, (struct sockaddr *)&from, flen);
	}
}

int main(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(53),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0,
	      "a DNS server's socket on 127.0.0.1:53");
	FILE *conf = fopen("/etc/resolv.conf", "w");
	CHECK(conf &&
		      fputs("nameserver 127.0.0.1\n"
			    "options timeout:2 attempts:2\n",
			    conf) >= 0 &&
		      fclose(conf) == 0,
	      "/etc/resolv.conf names it");
	pid_t pid = fork();
	if (pid == 0) {
		serve(fd);
		_exit(0);
	}
	close(fd);

	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM},
			*res = NULL;
	int r = getaddrinfo(NAME, "80", &hints, &res);
	char got[INET_ADDRSTRLEN] = "";
	if (r == 0 && res->ai_family == AF_INET)
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)res->ai_addr)->sin_addr, got,
			  sizeof(got));
	CHECK(r == 0 && !strcmp(got, ADDR) && !res->ai_next,
	      "getaddrinfo(\"%s\") gives %s (%s, %s)", NAME, ADDR,
	      r ? gai_strerror(r) : "found", got);
	if (r == 0)
		freeaddrinfo(res);
	r = getaddrinfo("missing.test", "80", &hints, &res);
	CHECK(r == EAI_NONAME,
	      "a name the server does not know: EAI_NONAME "
	      "(%s)",
	      gai_strerror(r));
	r = getaddrinfo("localhost", "80", &hints, &res);
	CHECK(r == 0, "localhost, from /etc/hosts (%s)",
	      r ? gai_strerror(r) : "found");
	if (r == 0)
		freeaddrinfo(res);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return guest_done("resolve");
}
