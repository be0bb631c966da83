/* cli.h: the fresco command's subcommands.
 *
 * Each subcommand takes its own argv (argv[0] is the subcommand's name)
 * and returns the process exit status, following docker's convention:
 * 125 when fresco itself fails (bad flag, no KVM), 126 when the program
 * cannot be run, 127 when it does not exist, otherwise the program's own.
 */
#ifndef FRESCO_CLI_H
#define FRESCO_CLI_H

#define EXIT_FRESCO 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

#define FRESCO_VERSION "0.1.0"

int cmd_run(int argc, char **argv);

/* The guest kernel: $FRESCO_KERNEL, else ../lib/fresco/fresco-kernel
 * next to the running executable (the build tree and an installed prefix
 * share that layout). Returns a static string, or NULL after an error. */
const char *kernel_path(void);

#endif
