/* sleeper.c: says so, then sleeps for a minute: a VM to interrupt. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("sleeping\n");
	fflush(stdout);
	sleep(60);
	printf("woke up\n");
	return 0;
}
