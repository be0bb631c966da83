/* vms.c: detached VMs: their state directories and the commands that
 * manage them (ps, logs, stop, kill, rm, wait, inspect).
 *
 * A VM's life:  created (state written) -> running (monitor pid alive)
 *               -> exited (exit file written by the monitor, or by
 *               stop/kill when they ended it, or inferred when the
 *               monitor is gone) -> removed (rm, or --rm).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "vmm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STATE_PATH (2 * PATH_MAX)
#define STOP_TIMEOUT_DEFAULT 10
#define POLL_US 20000
#define VM_MOUNTS_MAX 8
#define LOG_MAX_DEFAULT (16ULL << 20) /* then one older file is kept */

struct vm_state {
	char id[65];
	char name[256];
	char image[PATH_MAX];
	char cmd[1024];
	long long created;
	unsigned long long memory;
	int pid;
	int running;
	int exit_status; /* -1: unknown (monitor gone without one) */
	int exited;
	char mounts[VM_MOUNTS_MAX][PATH_MAX + 64]; /* "rw DEST SOURCE" */
	int nmounts;
};

const char *runtime_root(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("FRESCO_RUNTIME");
	if (env && *env)
		return env;
	if (geteuid() == 0)
		return "/run/fresco";
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg)
		snprintf(path, sizeof(path), "%s/fresco", xdg);
	else
		snprintf(path, sizeof(path), "/tmp/fresco-%d", (int)getuid());
	return path;
}

static void state_path(char *out, const char *id, const char *file)
{
	snprintf(out, STATE_PATH, "%s/%s%s%s", runtime_root(), id,
		 file ? "/" : "", file ? file : "");
}

static int write_file(const char *path, const char *text)
{
	return write_atomic(path, text, strlen(text));
}

int vm_state_create(const char *name, const char *image, const char *cmd,
		    uint64_t memory, const char *mounts, char id[65])
{
	unsigned char raw[32];
	char dir[STATE_PATH], link[3 * PATH_MAX], defname[32];
	char text[4096 + VM_MOUNTS_MAX * (PATH_MAX + 64)];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return EXIT_FRESCO;
	for (int k = 0; k < 32; k++)
		sprintf(id + 2 * k, "%02x", raw[k]);
	if (!name) {
		snprintf(defname, sizeof(defname), "vm-%.8s", id);
		name = defname;
	}
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' ||
		      *c == '-') ||
		    strlen(name) > 64) {
			fprintf(stderr,
				"fresco run: --name '%s': use up to 64 "
				"letters, digits, '.', '_' and '-'\n",
				name);
			return EXIT_FRESCO;
		}
	snprintf(dir, sizeof(dir), "%s/names", runtime_root());
	if (make_dirs(dir, 0700) < 0) {
		fprintf(stderr, "fresco: cannot create %s: %s\n", dir,
			strerror(errno));
		return EXIT_FRESCO;
	}
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	if (symlink(id, link) < 0) {
		char other[128] = "?";
		ssize_t n = readlink(link, other, sizeof(other) - 1);
		other[n > 0 ? n : 1] = '\0';
		fprintf(stderr,
			"fresco: the name '%s' is in use by VM %.12s; "
			"remove it first (fresco rm %s)\n",
			name, other, name);
		return EXIT_FRESCO;
	}
	state_path(dir, id, NULL);
	snprintf(text, sizeof(text),
		 "name %s\nimage %s\ncmd %s\ncreated %lld\nmemory %llu\n%s",
		 name, image, cmd, (long long)time(NULL),
		 (unsigned long long)memory, mounts ? mounts : "");
	char cfg[STATE_PATH];
	state_path(cfg, id, "config");
	if (mkdir(dir, 0700) < 0 || write_file(cfg, text) < 0) {
		fprintf(stderr, "fresco: cannot create %s: %s\n", dir,
			strerror(errno));
		unlink(link);
		return EXIT_FRESCO;
	}
	return 0;
}

static void remove_state(const struct vm_state *s)
{
	static const char *const files[] = {
		"config",	 "pid",		 "exit",    "console.log",
		"console.log.1", "control.sock", "boot_us", NULL};
	char path[STATE_PATH];
	for (int k = 0; files[k]; k++) {
		state_path(path, s->id, files[k]);
		unlink(path);
	}
	state_path(path, s->id, NULL);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/names/%s", runtime_root(), s->name);
	unlink(path);
}

static int read_state(const char *id, struct vm_state *s);

/* A detached VM's parent: 0 once the monitor (pid) says on (ready_fd)
 * that the VM is made; if it ended before (a TAP another VM has, no
 * KVM, a kernel that would not load), what it logged goes to stderr,
 * its state is removed (nothing ran) and its status returned, as a run
 * in the foreground would have ended. */
static int detach_started(const char *id, pid_t pid, int ready_fd)
{
	char byte;
	ssize_t n;
	while ((n = read(ready_fd, &byte, 1)) < 0 && errno == EINTR)
		;
	close(ready_fd);
	if (n == 1)
		return 0;
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	char path[STATE_PATH], buf[4096];
	state_path(path, id, "console.log");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (write(2, buf, (size_t)n) != n)
			break;
	if (fd >= 0)
		close(fd);
	struct vm_state s;
	if (read_state(id, &s) == 0)
		remove_state(&s);
	int status = WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_FRESCO;
	return status ? status : EXIT_FRESCO;
}

int vm_detach(const char *id, const struct vm_config *given, int autoremove)
{
	static char path[STATE_PATH];
	struct vm_config cfg = *given;
	const char *max = getenv("FRESCO_LOG_MAX");
	cfg.log_max = max && *max ? parse_size(max) : LOG_MAX_DEFAULT;
	if (!cfg.log_max)
		cfg.log_max = LOG_MAX_DEFAULT;
	int ready[2];
	fflush(stdout);
	fflush(stderr);
	if (pipe2(ready, O_CLOEXEC) < 0) {
		perror("fresco: pipe");
		return EXIT_FRESCO;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fresco: fork");
		close(ready[0]);
		close(ready[1]);
		return EXIT_FRESCO;
	}
	char text[32], file[STATE_PATH];
	if (pid > 0) {
		/* recorded before the ID is printed: a command that follows
		 * at once (rm, stop) must see the VM as running */
		close(ready[1]);
		snprintf(text, sizeof(text), "%d\n", (int)pid);
		state_path(file, id, "pid");
		write_file(file, text);
		return detach_started(id, pid, ready[0]);
	}
	/* the monitor: its own session, output to the console log */
	close(ready[0]);
	cfg.ready_fd = ready[1];
	setsid();
	static char sock[STATE_PATH];
	state_path(sock, id, "control.sock");
	cfg.control_path = sock;
	state_path(path, id, "console.log");
	cfg.log_path = path;
	int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (log < 0 || null < 0)
		_exit(EXIT_FRESCO);
	dup2(null, 0);
	dup2(log, 1);
	dup2(log, 2);
	uint64_t boot_us = 0;
	cfg.boot_us = &boot_us;
	int status = vm_run(&cfg);
	if (boot_us) {
		snprintf(text, sizeof(text), "%llu\n",
			 (unsigned long long)boot_us);
		state_path(file, id, "boot_us");
		write_file(file, text);
	}
	snprintf(text, sizeof(text), "%d\n", status);
	state_path(file, id, "exit");
	write_file(file, text);
	if (autoremove) {
		struct vm_state s;
		if (read_state(id, &s) == 0)
			remove_state(&s);
	}
	vm_exit(status);
}

/* ---- reading state ---- */

static int pid_is_monitor(int pid)
{
	char path[64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int ok = fgets(comm, sizeof(comm), f) && strcmp(comm, "fresco\n") == 0;
	fclose(f);
	return ok;
}

static int read_int(const char *id, const char *file, int *out)
{
	char path[STATE_PATH];
	state_path(path, id, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fscanf(f, "%d", out) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int read_state(const char *id, struct vm_state *s)
{
	char path[STATE_PATH], line[PATH_MAX + 16];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	state_path(path, id, "config");
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "name"))
			snprintf(s->name, sizeof(s->name), "%s", v);
		else if (!strcmp(line, "image"))
			snprintf(s->image, sizeof(s->image), "%s", v);
		else if (!strcmp(line, "cmd"))
			snprintf(s->cmd, sizeof(s->cmd), "%s", v);
		else if (!strcmp(line, "created"))
			s->created = atoll(v);
		else if (!strcmp(line, "memory"))
			s->memory = strtoull(v, NULL, 10);
		else if (!strcmp(line, "mount") && s->nmounts < VM_MOUNTS_MAX)
			snprintf(s->mounts[s->nmounts++], sizeof(s->mounts[0]),
				 "%s", v);
	}
	fclose(f);
	s->exit_status = -1;
	if (read_int(id, "exit", &s->exit_status) == 0) {
		s->exited = 1;
		return 0;
	}
	if (read_int(id, "pid", &s->pid) == 0 && pid_is_monitor(s->pid)) {
		s->running = 1;
		return 0;
	}
	/* no exit file: starting (no pid yet) or its monitor died */
	s->exited = s->pid > 0 || time(NULL) - s->created > 5;
	return 0;
}

/* All VM ids, sorted by creation (oldest first). */
static int list_ids(char ***out)
{
	DIR *d = opendir(runtime_root());
	char **ids = NULL;
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strlen(e->d_name) != 64)
			continue;
		char **grown = realloc(ids, (size_t)(n + 1) * sizeof(char *));
		if (!grown)
			break;
		ids = grown;
		ids[n++] = strdup(e->d_name);
	}
	if (d)
		closedir(d);
	*out = ids;
	return n;
}

/* Find a VM by name, id or unique id prefix. 0, or prints why and -1. */
static int resolve(const char *ref, struct vm_state *s)
{
	char link[STATE_PATH], id[65];
	snprintf(link, sizeof(link), "%s/names/%s", runtime_root(), ref);
	ssize_t n = readlink(link, id, sizeof(id) - 1);
	if (n == 64) {
		id[64] = '\0';
		if (read_state(id, s) == 0)
			return 0;
	}
	char **ids;
	int count = list_ids(&ids), found = -1, matches = 0;
	size_t len = strlen(ref);
	for (int k = 0; k < count; k++)
		if (len && len <= 64 && strncmp(ids[k], ref, len) == 0) {
			matches++;
			found = k;
		}
	int r = -1;
	if (matches == 1)
		r = read_state(ids[found], s);
	else if (matches > 1)
		fprintf(stderr,
			"fresco: '%s' names %d VMs; give more of the "
			"ID\n",
			ref, matches);
	if (matches == 0)
		fprintf(stderr, "fresco: no VM '%s' (see fresco ps -a)\n", ref);
	for (int k = 0; k < count; k++)
		free(ids[k]);
	free(ids);
	return r;
}

static void age(long long then, char *out, size_t cap)
{
	long long sec = (long long)time(NULL) - then;
	if (sec < 60)
		snprintf(out, cap, "%lld seconds", sec < 0 ? 0 : sec);
	else if (sec < 3600)
		snprintf(out, cap, "%lld minutes", sec / 60);
	else
		snprintf(out, cap, "%lld hours", sec / 3600);
}

static void status_text(const struct vm_state *s, char *out, size_t cap)
{
	char a[32];
	age(s->created, a, sizeof(a));
	if (s->running)
		snprintf(out, cap, "Up %s", a);
	else if (s->exited && s->exit_status >= 0)
		snprintf(out, cap, "Exited (%d)", s->exit_status);
	else if (s->exited)
		snprintf(out, cap, "Exited (monitor gone)");
	else
		snprintf(out, cap, "Created");
}

/* ---- commands ---- */

int cmd_ps(int argc, char **argv)
{
	int all = argc > 1 &&
		  (strcmp(argv[1], "-a") == 0 || strcmp(argv[1], "--all") == 0);
	if (argc > 1 + all) {
		fprintf(stderr, "fresco ps: usage: fresco ps [-a]\n");
		return EXIT_FRESCO;
	}
	char **ids;
	int n = list_ids(&ids);
	struct vm_state *v = calloc((size_t)n + 1, sizeof(*v));
	int m = 0;
	for (int k = 0; k < n; k++)
		if (read_state(ids[k], &v[m]) == 0 && (all || v[m].running))
			m++;
	/* newest first, as docker lists */
	for (int i = 1; i < m; i++)
		for (int j = i; j > 0 && v[j].created > v[j - 1].created; j--) {
			struct vm_state t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	printf("%-12s  %-20s  %-20s  %-22s  %-18s  %s\n", "VM ID", "NAME",
	       "IMAGE", "STATUS", "CREATED", "MEMORY");
	for (int k = 0; k < m; k++) {
		char st[64], created[48], a[32];
		status_text(&v[k], st, sizeof(st));
		age(v[k].created, a, sizeof(a));
		snprintf(created, sizeof(created), "%s ago", a);
		printf("%-12.12s  %-20s  %-20.20s  %-22s  %-18s  %lluM\n",
		       v[k].id, v[k].name, v[k].image, st, created,
		       v[k].memory >> 20);
	}
	for (int k = 0; k < n; k++)
		free(ids[k]);
	free(ids);
	free(v);
	return 0;
}

static int copy_log_file(const char *id, const char *file, long long *off,
			 int tail_lines)
{
	char path[STATE_PATH], buf[65536];
	state_path(path, id, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (tail_lines >= 0 && *off == 0) {
		/* find where the last (tail_lines) lines start */
		long long pos = 0, *starts = calloc((size_t)tail_lines + 1,
						    sizeof(long long));
		int count = 0, c, at_start = 1;
		while ((c = fgetc(f)) != EOF) {
			if (at_start && tail_lines > 0)
				starts[count++ % tail_lines] = pos;
			at_start = c == '\n';
			pos++;
		}
		*off = tail_lines == 0	    ? pos
		       : count < tail_lines ? 0
					    : starts[count % tail_lines];
		free(starts);
	}
	fseek(f, *off, SEEK_SET);
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		fwrite(buf, 1, n, stdout);
		*off += (long long)n;
	}
	fflush(stdout);
	fclose(f);
	return 0;
}

static int copy_log(const char *id, long long *off, int tail_lines)
{
	return copy_log_file(id, "console.log", off, tail_lines);
}

int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{"tail", required_argument, NULL, 'n'},
		{0, 0, 0, 0},
	};
	int follow = 0, tail = -1, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+fn:", opts, NULL)) != -1) {
		if (c == 'f')
			follow = 1;
		else if (c == 'n' && (tail = atoi(optarg)) >= 0 &&
			 optarg[strspn(optarg, "0123456789")] == '\0')
			;
		else {
			fprintf(stderr, "fresco logs: usage: fresco logs [-f] "
					"[--tail N] VM\n");
			return EXIT_FRESCO;
		}
	}
	struct vm_state s;
	if (optind + 1 != argc) {
		fprintf(stderr,
			"fresco logs: usage: fresco logs [-f] [--tail N] "
			"VM\n");
		return EXIT_FRESCO;
	}
	if (resolve(argv[optind], &s) < 0)
		return 1;
	long long off = 0;
	if (tail < 0) { /* the whole log: what was rotated out first */
		long long old = 0;
		copy_log_file(s.id, "console.log.1", &old, -1);
	}
	copy_log(s.id, &off, tail);
	while (follow) {
		struct vm_state now;
		if (read_state(s.id, &now) < 0 || !now.running) {
			copy_log(s.id, &off, -1); /* what came last */
			break;
		}
		usleep(POLL_US);
		copy_log(s.id, &off, -1);
	}
	return 0;
}

/* Wait up to (seconds) for (s) to stop running; 0 if it did. */
static int wait_stopped(struct vm_state *s, double seconds)
{
	for (double t = 0; t <= seconds; t += POLL_US / 1e6) {
		if (kill(s->pid, 0) < 0 || !pid_is_monitor(s->pid))
			return 0;
		usleep(POLL_US);
	}
	return -1;
}

/* The monitor was killed: record that, as its own exit would have. */
static void record_killed(const struct vm_state *s, int status)
{
	char path[STATE_PATH], text[16];
	int existing;
	if (read_int(s->id, "exit", &existing) == 0)
		return;
	state_path(path, s->id, "exit");
	snprintf(text, sizeof(text), "%d\n", status);
	write_file(path, text);
}

static int end_vm(const char *ref, int sig, double timeout)
{
	struct vm_state s;
	if (resolve(ref, &s) < 0)
		return 1;
	if (!s.running) {
		printf("%s\n", ref);
		return 0;
	}
	char sock[STATE_PATH], answer[512];
	state_path(sock, s.id, "control.sock");
	if (sig == SIGTERM) {
		/* through the monitor, which passes it to the program */
		if (control_request(sock, "stop", answer, sizeof(answer)) < 0)
			kill(s.pid, SIGTERM);
		if (wait_stopped(&s, timeout) == 0) {
			printf("%s\n", ref);
			return 0;
		}
	}
	if (control_request(sock, "kill", answer, sizeof(answer)) < 0)
		kill(s.pid, SIGKILL);
	wait_stopped(&s, 10);
	record_killed(&s, 128 + SIGKILL);
	printf("%s\n", ref);
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	double timeout = STOP_TIMEOUT_DEFAULT;
	int first = 1, status = 0;
	if (argc > 2 &&
	    (!strcmp(argv[1], "-t") || !strcmp(argv[1], "--time"))) {
		char *end;
		timeout = strtod(argv[2], &end);
		if (*end || timeout < 0) {
			fprintf(stderr, "fresco stop: -t takes seconds\n");
			return EXIT_FRESCO;
		}
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "fresco stop: usage: fresco stop [-t SECONDS] "
				"VM...\n");
		return EXIT_FRESCO;
	}
	for (int k = first; k < argc; k++)
		status |= end_vm(argv[k], SIGTERM, timeout);
	return status;
}

int cmd_kill(int argc, char **argv)
{
	int status = 0;
	if (argc < 2) {
		fprintf(stderr, "fresco kill: usage: fresco kill VM...\n");
		return EXIT_FRESCO;
	}
	for (int k = 1; k < argc; k++)
		status |= end_vm(argv[k], SIGKILL, 0);
	return status;
}

int cmd_rm(int argc, char **argv)
{
	int force = argc > 1 &&
		    (!strcmp(argv[1], "-f") || !strcmp(argv[1], "--force"));
	int status = 0;
	if (argc < 2 + force) {
		fprintf(stderr, "fresco rm: usage: fresco rm [-f] VM...\n");
		return EXIT_FRESCO;
	}
	for (int k = 1 + force; k < argc; k++) {
		struct vm_state s;
		if (resolve(argv[k], &s) < 0) {
			status = 1;
			continue;
		}
		if (s.running && !force) {
			fprintf(stderr,
				"fresco: VM %s is running; stop it "
				"first or use rm -f\n",
				argv[k]);
			status = 1;
			continue;
		}
		if (s.running) {
			kill(s.pid, SIGKILL);
			wait_stopped(&s, 10);
		}
		remove_state(&s);
		printf("%s\n", argv[k]);
	}
	return status;
}

int cmd_wait(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "fresco wait: usage: fresco wait VM\n");
		return EXIT_FRESCO;
	}
	struct vm_state s;
	if (resolve(argv[1], &s) < 0)
		return 1;
	char id[65];
	snprintf(id, sizeof(id), "%s", s.id); /* read_state clears (s) */
	while (s.running || (!s.exited)) {
		usleep(POLL_US);
		if (read_state(id, &s) < 0) {
			fprintf(stderr, "fresco: VM %s was removed\n", argv[1]);
			return 1;
		}
	}
	if (s.exit_status < 0) {
		fprintf(stderr,
			"fresco: VM %s ended without an exit status "
			"(its monitor is gone)\n",
			argv[1]);
		return 1;
	}
	printf("%d\n", s.exit_status);
	return 0;
}

static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

int cmd_inspect(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "fresco inspect: usage: fresco inspect "
				"VM|IMAGE\n");
		return EXIT_FRESCO;
	}
	char name[128], tag[129];
	char *blob = image_ref_parse(argv[1], name, sizeof(name), tag,
				     sizeof(tag)) == 0
			     ? store_find(name, tag)
			     : NULL;
	struct vm_state s;
	if (!blob) {
		if (resolve(argv[1], &s) < 0)
			return 1;
		char st[64];
		status_text(&s, st, sizeof(st));
		printf("{\n  \"Id\": ");
		print_json_string(s.id);
		printf(",\n  \"Name\": ");
		print_json_string(s.name);
		printf(",\n  \"Image\": ");
		print_json_string(s.image);
		printf(",\n  \"Command\": ");
		print_json_string(s.cmd);
		printf(",\n  \"Created\": %lld,\n  \"Memory\": %llu,\n",
		       s.created, s.memory);
		int boot_us = -1;
		char sock[STATE_PATH], answer[4096];
		json_t *live = NULL; /* the monitor's state, while it runs */
		state_path(sock, s.id, "control.sock");
		if (s.running &&
		    control_request(sock, "state", answer, sizeof(answer)) == 0)
			live = json_loads(answer, 0, NULL);
		if (read_int(s.id, "boot_us", &boot_us) < 0 && live)
			boot_us = (int)json_integer_value(
				json_object_get(live, "boot_us"));
		if (boot_us > 0)
			printf("  \"BootTimeUs\": %d,\n", boot_us);
		else
			printf("  \"BootTimeUs\": null,\n");
		/* the network device's counts and offloads */
		json_t *net = live ? json_object_get(live, "net") : NULL;
		char *net_text = json_is_object(net)
					 ? json_dumps(net, JSON_COMPACT)
					 : NULL;
		printf("  \"Network\": %s,\n", net_text ? net_text : "null");
		free(net_text);
		json_decref(live);
		printf("  \"Mounts\": [");
		for (int m = 0; m < s.nmounts; m++) {
			/* "rw DEST SOURCE"; DEST has no spaces */
			char *mode = s.mounts[m], *dest = strchr(mode, ' ');
			char *src = dest ? strchr(dest + 1, ' ') : NULL;
			if (!src)
				continue;
			*dest++ = *src++ = '\0';
			printf("%s{\"Source\": ", m ? ", " : "");
			print_json_string(src);
			printf(", \"Destination\": ");
			print_json_string(dest);
			printf(", \"ReadOnly\": %s}",
			       strcmp(mode, "ro") == 0 ? "true" : "false");
		}
		printf("],\n");
		printf("  \"State\": {\"Status\": \"%s\", \"Running\": %s, "
		       "\"Pid\": %d, \"ExitCode\": %d, \"Text\": ",
		       s.running  ? "running"
		       : s.exited ? "exited"
				  : "created",
		       s.running ? "true" : "false", s.running ? s.pid : 0,
		       s.exit_status);
		print_json_string(st);
		printf("}\n}\n");
		return 0;
	}
	struct stat bs;
	stat(blob, &bs);
	printf("{\n  \"Name\": ");
	print_json_string(name);
	printf(",\n  \"Tag\": ");
	print_json_string(tag);
	printf(",\n  \"Digest\": \"sha256:%s\",\n  \"Size\": %lld",
	       strrchr(blob, '/') + 1, (long long)bs.st_size);
	/* the run configuration recorded in the image */
	int fd = open(blob, O_RDONLY | O_CLOEXEC);
	void *img = fd >= 0 ? mmap(NULL, (size_t)bs.st_size, PROT_READ,
				   MAP_PRIVATE, fd, 0)
			    : MAP_FAILED;
	struct run_config rc;
	if (img != MAP_FAILED &&
	    image_config(img, (size_t)bs.st_size, &rc) == 0) {
		printf(",\n  \"Config\": {\"Program\": ");
		print_json_string(rc.init);
		printf(", \"Args\": [");
		for (char **a = rc.args; a && *a; a++) {
			print_json_string(*a);
			printf("%s", a[1] ? ", " : "");
		}
		printf("], \"Env\": [");
		for (char **e = rc.env; e && *e; e++) {
			print_json_string(*e);
			printf("%s", e[1] ? ", " : "");
		}
		printf("], \"Workdir\": ");
		print_json_string(rc.workdir ? rc.workdir : "/");
		printf(", \"Memory\": %llu}", (unsigned long long)rc.memory);
	}
	printf("\n}\n");
	if (img != MAP_FAILED)
		munmap(img, (size_t)bs.st_size);
	if (fd >= 0)
		close(fd);
	free(blob);
	return 0;
}
