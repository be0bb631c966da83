/* main.c: the fresco command: global options and subcommand dispatch. */
#include "cli.h"
#include "vmm.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KERNEL_RELATIVE "/../lib/fresco/fresco-kernel"

static const char usage[] =
	"Usage: fresco COMMAND [OPTIONS]\n"
	"\n"
	"Run a Linux program as its own virtual machine.\n"
	"\n"
	"Commands:\n"
	"  run       Run a static x86_64 Linux program or an image in a new "
	"VM\n"
	"  build     Build an image from a manifest\n"
	"  images    List the images in the local store\n"
	"  rmi       Remove images from the local store\n"
	"  ps        List VMs (-a: also those that ended)\n"
	"  logs      Show a VM's console output (-f: follow)\n"
	"  stop      Stop VMs: SIGTERM to the program, then kill\n"
	"  kill      Kill VMs\n"
	"  rm        Remove VMs that ended (-f: also running ones)\n"
	"  wait      Wait for a VM to end and print its exit status\n"
	"  inspect   Show a VM or an image as JSON\n"
	"  volume    Make volumes (volume create FILE --size SIZE)\n"
	"  version   Show the version\n"
	"\n"
	"Run 'fresco COMMAND --help' for more about a command.\n";

const char *kernel_path(void)
{
	static char path[PATH_MAX];
	char self[PATH_MAX];
	const char *env = getenv("FRESCO_KERNEL");

	if (env && *env)
		return env;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		fprintf(stderr, "fresco: cannot find the guest kernel (no "
				"/proc/self/exe); set FRESCO_KERNEL\n");
		return NULL;
	}
	self[n] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s%s", dirname(self),
			     KERNEL_RELATIVE) >= sizeof(path)) {
		fprintf(stderr, "fresco: the path of the guest kernel is too "
				"long; set FRESCO_KERNEL\n");
		return NULL;
	}
	return path;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_FRESCO;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("fresco version %s\n", FRESCO_VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		vm_exit(cmd_run(argc - 1, argv + 1));
	if (strcmp(cmd, "build") == 0)
		return cmd_build(argc - 1, argv + 1);
	if (strcmp(cmd, "volume") == 0)
		return cmd_volume(argc - 1, argv + 1);
	if (strcmp(cmd, "images") == 0)
		return cmd_images(argc - 1, argv + 1);
	if (strcmp(cmd, "rmi") == 0)
		return cmd_rmi(argc - 1, argv + 1);
	static const struct {
		const char *name;
		int (*fn)(int, char **);
		const char *usage;
	} vm_cmds[] = {
		{"ps", cmd_ps,
		 "fresco ps [-a]\n\nList running VMs; -a also "
		 "those that ended."},
		{"logs", cmd_logs,
		 "fresco logs [-f] [--tail N] VM\n\nShow a "
		 "VM's console output; -f follows it until "
		 "the VM ends."},
		{"stop", cmd_stop,
		 "fresco stop [-t SECONDS] VM...\n\nSend the "
		 "program SIGTERM; kill the VM after "
		 "SECONDS (10)."},
		{"kill", cmd_kill,
		 "fresco kill VM...\n\nKill VMs at once "
		 "(status 137)."},
		{"rm", cmd_rm,
		 "fresco rm [-f] VM...\n\nRemove VMs that ended; "
		 "-f kills running ones first."},
		{"wait", cmd_wait,
		 "fresco wait VM\n\nWait for a VM to end and "
		 "print its exit status."},
		{"inspect", cmd_inspect,
		 "fresco inspect VM|IMAGE\n\nShow a VM "
		 "or an image as JSON."},
	};
	for (size_t k = 0; k < sizeof(vm_cmds) / sizeof(vm_cmds[0]); k++) {
		if (strcmp(cmd, vm_cmds[k].name) != 0)
			continue;
		if (argc > 2 && (strcmp(argv[2], "--help") == 0 ||
				 strcmp(argv[2], "-h") == 0)) {
			printf("Usage: %s\n", vm_cmds[k].usage);
			return 0;
		}
		return vm_cmds[k].fn(argc - 1, argv + 1);
	}
	fprintf(stderr,
		"fresco: '%s' is not a fresco command; see "
		"'fresco --help'\n",
		cmd);
	return EXIT_FRESCO;
}
