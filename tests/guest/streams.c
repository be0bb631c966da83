/* streams.c: stdout and stderr stay apart, stdin is read to its end. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char buf[256];
	ssize_t n, total = 0;

	fputs("to stdout\n", stdout);
	fflush(stdout);
	fputs("to stderr\n", stderr);
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		total += n;
		if (write(1, buf, (size_t)n) != n)
			return 2;
	}
	printf("read %zd bytes, last read returned %zd\n", total, n);
	return n == 0 ? 0 : 1;
}
