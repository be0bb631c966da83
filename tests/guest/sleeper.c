/* sleeper.c [MODE [SECONDS]]: says so, then sleeps for a minute (or
 * SECONDS): a VM to interrupt, or one whose program uses no network.
 * MODE "handle": SIGINT and SIGTERM handlers print the signal and exit 0;
 * "ignore": both are ignored. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_signal(int sig)
{
	/* write, not printf: async-signal-safe */
	const char *msg = sig == SIGINT ? "got SIGINT\n" : "got SIGTERM\n";
	write(1, msg, strlen(msg));
	_exit(0); /* exit() would flush stdio again: not signal-safe */
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "handle") == 0) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	} else if (strcmp(mode, "ignore") == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
	}
	printf("sleeping\n");
	fflush(stdout);
	sleep(argc > 2 ? (unsigned)atoi(argv[2]) : 60);
	printf("woke up\n");
	return 0;
}
