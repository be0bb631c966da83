/* cli.h: the fresco command's subcommands.
 *
 * Each subcommand takes its own argv (argv[0] is the subcommand's name)
 * and returns the process exit status, following docker's convention:
 * 125 when fresco itself fails (bad flag, no KVM), 126 when the program
 * cannot be run, 127 when it does not exist, otherwise the program's own.
 */
#ifndef FRESCO_CLI_H
#define FRESCO_CLI_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#define EXIT_FRESCO 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

#define FRESCO_VERSION "0.1.0"

int cmd_run(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_volume(int argc, char **argv);

/* ---- volumes (volume.c) ---- */

struct vm_disk;
#define ANON_VOLUME_SIZE (1ULL << 30) /* sparse */

/* ---- networking (run.c) ---- */

#define NET_USER_GUEST "10.0.2.15"
#define NET_USER_GATEWAY "10.0.2.2"
#define NET_USER_DNS "10.0.2.3"

struct vm_forward;
/* Parse -p [IP:]HOSTPORT:GUESTPORT[/udp|/tcp]: 0, or EXIT_FRESCO after
 * printing why. */
int publish_parse(const char *spec, struct vm_forward *f);
/* The same without a word on failure: 0 or -1. */
int publish_spec(const char *spec, struct vm_forward *f);

/* A path a volume can be mounted at: absolute, not "/", no "." or ".."
 * components, nothing the kernel command line would quote. */
int volume_path_ok(const char *path);
/* Parse -v FILE:/PATH[:ro|:rw] into (d) (FILE made absolute) and the
 * guest path. 0, or EXIT_FRESCO after printing why. */
int volume_parse(const char *spec, struct vm_disk *d, char **guest);
/* A fresh volume for (guest) that disappears when the VM's monitor ends
 * (an image declared the path and no -v gave one). */
int volume_anonymous(struct vm_disk *d, const char *guest);

/* ---- detached VMs (vms.c) ---- */

/*
 * Each VM started with `run -d` has a state directory under
 * runtime_root()/ID: "config" (key value lines), "pid" (its monitor),
 * "console.log" (its output) and, once it has ended, "exit" (its status).
 * runtime_root()/names/NAME is a link to ID: names are taken atomically.
 * A VM whose monitor is gone without an exit file shows as exited.
 */
const char *runtime_root(void);
/* Create the state for a new VM and take its name (NULL: "vm-" + ID).
 * Fills (id) (64 hex digits). 0, or EXIT_FRESCO after printing why. */
int vm_state_create(const char *name, const char *image, const char *cmd,
		    uint64_t memory, const char *mounts, char id[65]);
/* Detach: fork a monitor for (id) that runs the VM described by (cfg) and
 * records its exit status, removing the state if (autoremove). The
 * caller (the parent) prints the ID and returns. */
struct vm_config;
int vm_detach(const char *id, const struct vm_config *cfg, int autoremove);

/* ---- manifests (manifest.c) ---- */

/*
 * A Frescofile, read from YAML. Every key is documented in
 * docs/manifest.md. Strings are owned by the manifest.
 */
struct copy_rule {
	char *src;  /* a glob, relative to the build context */
	char *dest; /* in the image; a trailing '/' makes it a directory */
	int line, column;
};

struct manifest {
	const char *file;
	char *program; /* host path, relative to the context */
	int program_line, program_column;
	char **args;   /* NULL-terminated */
	char **env;    /* "NAME=VALUE", NULL-terminated */
	char *workdir; /* NULL: "/" */
	struct copy_rule *files;
	int nfiles;
	uint64_t memory; /* 0: the default */
	int cpus;	 /* 0: the default */
	char **ports;	 /* NULL-terminated */
	char **volumes;	 /* NULL-terminated */
};

/* Read (path). Returns 0, or -1 after printing one line:
 * "fresco: FILE:LINE:COLUMN: what is wrong; hint". */
int manifest_load(const char *path, struct manifest *m);

/* "64M" and friends (K, M, G; bytes without a suffix); 0 if malformed. */
uint64_t parse_size(const char *s);

/* ---- images and the local store (image.c) ---- */

#define IMAGE_CONFIG_PATH ".fresco/config"

/* How an image runs: what `fresco build` records in IMAGE_CONFIG_PATH. */
struct run_config {
	char *init;  /* path in the image */
	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated */
	char *workdir;
	uint64_t memory;
	int cpus;
	char **volumes; /* guest paths; NULL-terminated */
	char **ports;	/* [IP:]HOSTPORT:GUESTPORT[/udp]; NULL-terminated */
};

/* Build the image for (m) from (context) into a malloc'd buffer. Entries
 * are sorted, owned by root, timestamped 0: the same inputs give the same
 * bytes. Returns 0, or -1 after printing why. */
int image_build(const struct manifest *m, const char *context, void **img,
		size_t *len);
/* Read the run configuration of the image (img, len); 0 if it has one. */
int image_config(const void *img, size_t len, struct run_config *rc);
/* The image's digest: "sha256:" and 64 hex digits. */
void image_digest(const void *img, size_t len, char out[72]);
/* Write (data, len) to (path) atomically (temporary file named by pid,
 * fsync, rename): readers see the old contents or all the new. */
int write_atomic(const char *path, const void *data, size_t len);
/* mkdir -p with (mode) for the directories it creates: 0 or -1. */
int make_dirs(const char *path, mode_t mode);

/* The store's root: $FRESCO_STORE, /var/lib/fresco for root, else
 * $XDG_DATA_HOME/fresco or ~/.local/share/fresco. */
const char *store_root(void);
/* Split "name[:tag]" (tag "latest" by default); 0, or -1 if malformed. */
int image_ref_parse(const char *ref, char *name, size_t ncap, char *tag,
		    size_t tcap);
/* Store (img) under (name, tag); prints nothing. 0 or -1 (errno). */
int store_put(const char *name, const char *tag, const void *img, size_t len,
	      char digest[72]);
/* The path of the image (name, tag) in the store, or NULL. */
char *store_find(const char *name, const char *tag);

/* The guest kernel: $FRESCO_KERNEL, else ../lib/fresco/fresco-kernel
 * next to the running executable (the build tree and an installed prefix
 * share that layout). Returns a static string, or NULL after an error. */
const char *kernel_path(void);

#endif
