/* run.c: `fresco run [OPTIONS] PROGRAM [ARG...]`.
 *
 * Checks the program on the host (so a mistake is reported before any VM
 * exists), packs it into an in-memory cpio root filesystem, writes the
 * kernel command line (lib.h has its grammar) and boots the VM.
 */
#include "cli.h"
#include "lib/lib.h"
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <limits.h>
#include <unistd.h>

#define DEFAULT_MEMORY (64ULL << 20)
#define PROGRAM_MODE 0100755

static const char usage[] =
	"Usage: fresco run [OPTIONS] PROGRAM [ARG...]\n"
	"       fresco run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
	"       fresco run [OPTIONS] ROOTFS.cpio COMMAND [ARG...]\n"
	"\n"
	"Run PROGRAM, a static x86_64 Linux executable, as its own VM; or\n"
	"boot ROOTFS.cpio (a cpio archive in newc format, as `cpio -o -H\n"
	"newc` makes) as the root filesystem and run COMMAND from it (a path,\n"
	"or a name looked up in PATH). IMAGE is a NAME[:TAG] from the local\n"
	"store or a file `fresco build` wrote; COMMAND replaces its program.\n"
	"The output is this command's output and the exit status this\n"
	"command's.\n"
	"\n"
	"Options:\n"
	"  -m, --memory SIZE   guest memory, e.g. 16M or 1G (default 64M)\n"
	"  -e, --env KEY=VAL   set an environment variable (KEY alone: take\n"
	"                      it from this environment); repeatable\n"
	"  -t, --tty           the program's console is a terminal\n"
	"      --net MODE      user (the default: NAT through the host, no\n"
	"                      root needed), tap:NAME (a TAP device), none\n"
	"  -p, --publish [IP:]HOSTPORT:GUESTPORT[/udp]\n"
	"                      make the guest's port reachable on the\n"
	"                      host's (--net user); repeatable\n"
	"      --ip ADDR/PREFIX, --gateway ADDR, --dns ADDR\n"
	"                      the guest's address; --ip dhcp asks the\n"
	"                      network (the default with --net tap;\n"
	"                      user networking gives 10.0.2.15/24)\n"
	"  -v, --volume FILE:/PATH[:ro]\n"
	"                      mount volume FILE (see `fresco volume\n"
	"                      create`) at PATH, read-only with :ro;\n"
	"                      repeatable\n"
	"  -d, --detach        run in the background and print the VM's ID\n"
	"      --name NAME     name the VM (with -d)\n"
	"      --rm            remove the VM when it ends (with -d)\n"
	"      --kernel-arg W  add W to the guest kernel's command line\n"
	"                      (debugging; see docs/architecture.md)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Exit status: the program's; 125 if fresco fails, 126 if PROGRAM\n"
	"cannot run, 127 if it does not exist.\n";

struct strbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			fprintf(stderr, "fresco: out of memory\n");
			exit(EXIT_FRESCO);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_word(struct strbuf *b, const char *prefix, const char *word)
{
	size_t n = cmdline_quote(NULL, 0, word);
	char *q = malloc(n + 1);
	if (!q) {
		fprintf(stderr, "fresco: out of memory\n");
		exit(EXIT_FRESCO);
	}
	cmdline_quote(q, n + 1, word);
	if (b->len)
		sb_add(b, " ", 1);
	sb_add(b, prefix, strlen(prefix));
	sb_add(b, q, n);
	free(q);
}

/* "64M" and friends: see cli.h. */
uint64_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return 0;
	uint64_t mult = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	case '\0':
		break;
	default:
		return 0;
	}
	if ((*end == 'b' || *end == 'B') && mult > 1)
		end++;
	if (*end || v > UINT64_MAX / mult)
		return 0;
	return v * mult;
}

struct env_list {
	char **v;
	int n;
};

/* Add or replace NAME=VALUE (entries must carry a '='). */
static void env_set(struct env_list *e, char *entry)
{
	size_t klen = strchr(entry, '=') - entry + 1;
	for (int i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], entry, klen) == 0) {
			e->v[i] = entry;
			return;
		}
	}
	e->v[e->n++] = entry;
}

/* Map (path) read-only after checking it is a runnable program. */
static int program_open(const char *path, const void **img, size_t *size)
{
	struct stat st;
	struct elf_plan plan;
	const char *why;

	if (stat(path, &st) < 0) {
		int e = errno;
		fprintf(stderr, "fresco: %s: %s\n", path, strerror(e));
		return e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND
						   : EXIT_CANNOT_RUN;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fresco: %s: is a directory, not a program\n",
			path);
		return EXIT_CANNOT_RUN;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "fresco: %s: not a program (%s)\n", path,
			S_ISREG(st.st_mode) ? "empty file" : "not a file");
		return EXIT_CANNOT_RUN;
	}
	if (access(path, X_OK) < 0) {
		fprintf(stderr,
			"fresco: %s: permission denied: it is not "
			"executable (chmod +x it)\n",
			path);
		return EXIT_CANNOT_RUN;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "fresco: %s: %s\n", path, strerror(errno));
		return EXIT_CANNOT_RUN;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "fresco: %s: %s\n", path, strerror(errno));
		return EXIT_CANNOT_RUN;
	}
	if (elf_plan(p, (size_t)st.st_size, &plan, &why) < 0) {
		fprintf(stderr, "fresco: %s: cannot run: %s\n", path, why);
		munmap(p, (size_t)st.st_size);
		return EXIT_CANNOT_RUN;
	}
	*img = p;
	*size = (size_t)st.st_size;
	return 0;
}

/* 1 if (path) starts like a cpio newc archive. */
static int is_cpio(const char *path)
{
	char magic[6];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == sizeof(magic) && memcmp(magic, "070701", 6) == 0;
}

/* Map a root filesystem archive; checks that it parses to its end. */
static int rootfs_open(const char *path, const void **img, size_t *size)
{
	struct stat st;
	struct cpio_file f;
	size_t off = 0;
	int r, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "fresco: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_FRESCO;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "fresco: %s: %s\n", path, strerror(errno));
		return EXIT_FRESCO;
	}
	while ((r = cpio_next(p, (size_t)st.st_size, &off, &f)) > 0)
		;
	if (r < 0) {
		fprintf(stderr,
			"fresco: %s: corrupt cpio archive at byte %zu; "
			"make it with `cpio -o -H newc`\n",
			path, off);
		munmap(p, (size_t)st.st_size);
		return EXIT_FRESCO;
	}
	*img = p;
	*size = (size_t)st.st_size;
	return 0;
}

/* A root filesystem holding just the program, as /NAME. */
static void *pack_rootfs(const char *name, const void *img, size_t size,
			 size_t *len)
{
	size_t cap =
		cpio_entry_size(name, size) + cpio_entry_size("TRAILER!!!", 0);
	void *buf = malloc(cap);
	size_t off = 0;

	if (!buf ||
	    cpio_put(buf, cap, &off, name, PROGRAM_MODE, 1, img, size) < 0 ||
	    cpio_put(buf, cap, &off, "TRAILER!!!", 0, 0, NULL, 0) < 0) {
		fprintf(stderr, "fresco: out of memory packing %s\n", name);
		free(buf);
		return NULL;
	}
	*len = off;
	return buf;
}

static int address_ok(const char *s, int prefix);

/* Publish (f) too: 0, or EXIT_FRESCO after saying there are too many. */
static int add_forward(struct vm_config *cfg, const struct vm_forward *f)
{
	if (cfg->nforwards == VM_FORWARD_MAX) {
		fprintf(stderr, "fresco run: at most %d published ports\n",
			VM_FORWARD_MAX);
		return EXIT_FRESCO;
	}
	cfg->forwards[cfg->nforwards++] = *f;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"memory", required_argument, NULL, 'm'},
		{"env", required_argument, NULL, 'e'},
		{"tty", no_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"kernel-arg", required_argument, NULL, 'k'},
		{"detach", no_argument, NULL, 'd'},
		{"name", required_argument, NULL, 'N'},
		{"rm", no_argument, NULL, 'R'},
		{"volume", required_argument, NULL, 'v'},
		{"net", required_argument, NULL, 'n'},
		{"publish", required_argument, NULL, 'p'},
		{"ip", required_argument, NULL, 'I'},
		{"gateway", required_argument, NULL, 'G'},
		{"dns", required_argument, NULL, 'D'},
		{0, 0, 0, 0},
	};
	struct vm_config cfg = {.mem_size = DEFAULT_MEMORY};
	struct env_list env = {calloc((size_t)argc + 1, sizeof(char *)), 0};
	char **kargs = calloc((size_t)argc + 1, sizeof(char *));
	int tty = 0, nkargs = 0, memory_given = 0, detach = 0, autoremove = 0;
	const char *vm_name = NULL;
	const char *guest_ip = NULL, *gateway = NULL, *dns = NULL;
	char *guest_paths[VM_DISK_MAX];
	int c;

	if (!env.v || !kargs)
		return EXIT_FRESCO;
	optind = 1;
	opterr = 0;
	cfg.net = VM_NET_USER;
	while ((c = getopt_long(argc, argv, "+m:e:thdv:p:", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'm':
			memory_given = 1;
			cfg.mem_size = parse_size(optarg);
			if (cfg.mem_size < VM_MEM_MIN ||
			    cfg.mem_size > VM_MEM_MAX) {
				fprintf(stderr,
					"fresco: --memory %s: give a "
					"size from 2M to 3G, like "
					"64M\n",
					optarg);
				return EXIT_FRESCO;
			}
			break;
		case 'e':
			if (optarg[0] == '=' || optarg[0] == '\0') {
				fprintf(stderr,
					"fresco: --env '%s': the "
					"variable has no name\n",
					optarg);
				return EXIT_FRESCO;
			}
			if (strchr(optarg, '=')) {
				env_set(&env, optarg);
			} else if (getenv(optarg)) {
				size_t n = strlen(optarg) +
					   strlen(getenv(optarg)) + 2;
				char *e = malloc(n);
				if (!e)
					return EXIT_FRESCO;
				snprintf(e, n, "%s=%s", optarg, getenv(optarg));
				env_set(&env, e);
			}
			break;
		case 't':
			tty = 1;
			break;
		case 'k':
			kargs[nkargs++] = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'N':
			vm_name = optarg;
			break;
		case 'R':
			autoremove = 1;
			break;
		case 'n':
			if (strcmp(optarg, "user") == 0) {
				cfg.net = VM_NET_USER;
			} else if (strcmp(optarg, "none") == 0) {
				cfg.net = VM_NET_NONE;
			} else if (strncmp(optarg, "tap:", 4) == 0 &&
				   optarg[4]) {
				cfg.net = VM_NET_TAP;
				cfg.tap_name = optarg + 4;
			} else {
				fprintf(stderr,
					"fresco run: --net %s: use user, "
					"tap:NAME or none\n",
					optarg);
				return EXIT_FRESCO;
			}
			break;
		case 'I':
		case 'G':
		case 'D':
			if (!(c == 'I' && strcmp(optarg, "dhcp") == 0) &&
			    address_ok(optarg, c == 'I') < 0) {
				fprintf(stderr,
					"fresco run: --%s %s: give an IPv4 "
					"address%s, like %s\n",
					c == 'I'   ? "ip"
					: c == 'G' ? "gateway"
						   : "dns",
					optarg,
					c == 'I' ? " with a prefix (or dhcp)"
						 : "",
					c == 'I' ? "10.0.3.2/24" : "10.0.3.1");
				return EXIT_FRESCO;
			}
			*(c == 'I'   ? &guest_ip
			  : c == 'G' ? &gateway
				     : &dns) = optarg;
			break;
		case 'p': {
			struct vm_forward f;
			if (publish_parse(optarg, &f) || add_forward(&cfg, &f))
				return EXIT_FRESCO;
			break;
		}
		case 'v':
			if (cfg.ndisks == VM_DISK_MAX) {
				fprintf(stderr,
					"fresco run: at most %d volumes\n",
					VM_DISK_MAX);
				return EXIT_FRESCO;
			}
			if (volume_parse(optarg, &cfg.disks[cfg.ndisks],
					 &guest_paths[cfg.ndisks]))
				return EXIT_FRESCO;
			for (unsigned i = 0; i < cfg.ndisks; i++)
				if (strcmp(guest_paths[i],
					   guest_paths[cfg.ndisks]) == 0) {
					fprintf(stderr,
						"fresco run: two volumes at "
						"%s\n",
						guest_paths[i]);
					return EXIT_FRESCO;
				}
			cfg.ndisks++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			if (optopt)
				fprintf(stderr,
					"fresco run: option -%c %s; "
					"see 'fresco run --help'\n",
					optopt,
					strchr("mevp", optopt)
						? "needs a value"
						: "is not known");
			else
				fprintf(stderr,
					"fresco run: option '%s' is "
					"not known or needs a value; "
					"see 'fresco run --help'\n",
					argv[optind - 1]);
			return EXIT_FRESCO;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "fresco run: no program given; see "
				"'fresco run --help'\n");
		return EXIT_FRESCO;
	}
	if (tty)
		env_set(&env, "TERM=xterm");

	const char *path = argv[optind];
	const void *img;
	size_t size;
	char *init, *stored = NULL, name[128], tag[129];
	char **image_args = NULL;
	struct run_config rc = {0};
	int r, first_arg = optind + 1, have_config = 0;

	/* a name in the local store comes before a path, as in docker */
	if (!strchr(path, '/') &&
	    image_ref_parse(path, name, sizeof(name), tag, sizeof(tag)) == 0 &&
	    (stored = store_find(name, tag)))
		path = stored;
	if (stored || is_cpio(path)) {
		if ((r = rootfs_open(path, &img, &size)))
			return r;
		cfg.initrd = img;
		cfg.initrd_size = size;
		have_config = image_config(img, size, &rc) == 0;
		if (first_arg < argc) {
			init = argv[first_arg++]; /* replaces the image's */
		} else if (have_config) {
			init = rc.init;
			image_args = rc.args;
		} else {
			fprintf(stderr,
				"fresco run: %s is a root filesystem: "
				"give the COMMAND to run in it\n",
				argv[optind]);
			return EXIT_FRESCO;
		}
		if (have_config && rc.memory && !memory_given)
			cfg.mem_size = rc.memory;
	} else {
		if ((r = program_open(path, &img, &size)))
			return r;
		char *copy = strdup(path);
		char *base = copy ? basename(copy) : NULL;
		init = base ? malloc(strlen(base) + 2) : NULL;
		if (!init)
			return EXIT_FRESCO;
		sprintf(init, "/%s", base);
		cfg.initrd = pack_rootfs(base, img, size, &cfg.initrd_size);
		if (!cfg.initrd)
			return EXIT_FRESCO;
	}

	/* the image's environment, then --env over it */
	struct env_list all = {calloc((size_t)argc + 64, sizeof(char *)), 0};
	size_t image_env = 0;
	for (char **e = have_config ? rc.env : NULL; e && *e; e++)
		image_env++;
	all.v = realloc(all.v, ((size_t)argc + image_env + 2) * sizeof(char *));
	if (!all.v)
		return EXIT_FRESCO;
	for (char **e = have_config ? rc.env : NULL; e && *e; e++)
		env_set(&all, *e);
	for (int i = 0; i < env.n; i++)
		env_set(&all, env.v[i]);

	/* paths the image declares get a fresh volume unless -v gave one */
	for (char **v = have_config ? rc.volumes : NULL; v && *v; v++) {
		int given = 0;
		for (unsigned i = 0; i < cfg.ndisks; i++)
			given |= strcmp(guest_paths[i], *v) == 0;
		if (given)
			continue;
		if (cfg.ndisks == VM_DISK_MAX) {
			fprintf(stderr, "fresco run: at most %d volumes\n",
				VM_DISK_MAX);
			return EXIT_FRESCO;
		}
		if ((r = volume_anonymous(&cfg.disks[cfg.ndisks], *v)))
			return r;
		guest_paths[cfg.ndisks++] = *v;
	}

	/* ports the image declares are published as -p would, unless a -p
	 * already takes that guest port; TAP reaches the guest directly */
	for (char **p = have_config && cfg.net == VM_NET_USER ? rc.ports : NULL;
	     p && *p; p++) {
		struct vm_forward f;
		int given = 0;
		if (publish_spec(*p, &f) < 0)
			continue; /* fresco build checked it */
		for (unsigned i = 0; i < cfg.nforwards; i++)
			given |= cfg.forwards[i].guest_port == f.guest_port &&
				 cfg.forwards[i].udp == f.udp;
		if (!given && add_forward(&cfg, &f))
			return EXIT_FRESCO;
	}
	if (cfg.nforwards && cfg.net != VM_NET_USER) {
		fprintf(stderr, "fresco run: --publish needs --net user; with "
				"a TAP device the guest's address is reachable "
				"directly\n");
		return EXIT_FRESCO;
	}
	struct strbuf cmd = {0};
	sb_word(&cmd, "init=", init);
	int dhcp = guest_ip && strcmp(guest_ip, "dhcp") == 0;
	if (dhcp && (gateway || dns)) {
		fprintf(stderr, "fresco run: with --ip dhcp the gateway and "
				"DNS server come from DHCP; drop --gateway "
				"and --dns\n");
		return EXIT_FRESCO;
	}
	if (cfg.net == VM_NET_USER && !dhcp) {
		/* libslirp's network, given statically: no DHCP at boot */
		guest_ip = guest_ip ? guest_ip : NET_USER_GUEST "/24";
		gateway = gateway ? gateway : NET_USER_GATEWAY;
		dns = dns ? dns : NET_USER_DNS;
	}
	if (cfg.net == VM_NET_TAP && !guest_ip)
		guest_ip = "dhcp"; /* a TAP network gives its addresses */
	if ((gateway || dns) && !guest_ip) {
		fprintf(stderr, "fresco run: --gateway and --dns need --ip\n");
		return EXIT_FRESCO;
	}
	if (guest_ip)
		sb_word(&cmd, "fresco.ip=", guest_ip);
	if (cfg.net == VM_NET_TAP)
		sb_word(&cmd, "fresco.link=", "up"); /* reachable at once */
	if (gateway)
		sb_word(&cmd, "fresco.gw=", gateway);
	if (dns)
		sb_word(&cmd, "fresco.dns=", dns);
	for (unsigned i = 0; i < cfg.ndisks; i++) {
		char word[PATH_MAX + 32];
		snprintf(word, sizeof(word), "fresco.mount=vd%c:%s%s", 'a' + i,
			 guest_paths[i], cfg.disks[i].readonly ? ":ro" : "");
		sb_word(&cmd, "", word);
	}
	for (int i = 0; i < all.n; i++)
		sb_word(&cmd, "fresco.env=", all.v[i]);
	if (have_config && rc.workdir && strcmp(rc.workdir, "/") != 0)
		sb_word(&cmd, "fresco.cwd=", rc.workdir);
	if (tty)
		sb_word(&cmd, "", "fresco.tty=1");
	for (int i = 0; i < nkargs; i++)
		sb_word(&cmd, "", kargs[i]);
	sb_word(&cmd, "", "--");
	for (char **a = image_args; a && *a; a++)
		sb_word(&cmd, "", *a);
	for (int i = first_arg; i < argc; i++)
		sb_word(&cmd, "", argv[i]);
	cfg.cmdline = cmd.p;

	cfg.kernel_path = kernel_path();
	if (!cfg.kernel_path)
		return EXIT_FRESCO;
	if (detach) {
		char id[65], what[1024] = "";
		size_t at = 0;
		at += (size_t)snprintf(what, sizeof(what), "%s", init);
		for (char **a = image_args; a && *a && at < sizeof(what); a++)
			at += (size_t)snprintf(what + at, sizeof(what) - at,
					       " %s", *a);
		for (int i = first_arg; i < argc && at < sizeof(what); i++)
			at += (size_t)snprintf(what + at, sizeof(what) - at,
					       " %s", argv[i]);
		struct strbuf mounts = {0};
		for (unsigned i = 0; i < cfg.ndisks; i++) {
			/* an anonymous volume has no name on the host */
			int anon = !strncmp(cfg.disks[i].path, "/proc/", 6);
			char line[PATH_MAX + 64];
			snprintf(line, sizeof(line), "mount %s %s %s\n",
				 cfg.disks[i].readonly ? "ro" : "rw",
				 guest_paths[i],
				 anon ? "(anonymous)" : cfg.disks[i].path);
			sb_add(&mounts, line, strlen(line));
		}
		if ((r = vm_state_create(vm_name, argv[optind], what,
					 cfg.mem_size, mounts.p, id)))
			return r;
		if ((r = vm_detach(id, &cfg, autoremove)))
			return r;
		printf("%s\n", id);
		return 0;
	}
	return vm_run(&cfg);
}

/* "a.b.c.d", or with (prefix) "a.b.c.d/N": 0 or -1. */
static int address_ok(const char *s, int prefix)
{
	char addr[32];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr a;
	if ((slash != NULL) != prefix || n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		return -1;
	if (prefix) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || p < 0 || p > 32)
			return -1;
	}
	return 0;
}

static int port_of(const char *s, const char *end, uint16_t *port)
{
	unsigned long v = 0;
	if (s == end || end - s > 5)
		return -1;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int publish_spec(const char *spec, struct vm_forward *f)
{
	const char *end = spec + strlen(spec), *slash = strchr(spec, '/');
	memset(f, 0, sizeof(*f));
	if (slash) {
		if (strcmp(slash, "/udp") == 0)
			f->udp = 1;
		else if (strcmp(slash, "/tcp") != 0)
			return -1;
		end = slash;
	}
	/* the last colon splits HOSTPART:GUESTPORT, the one before it an
	 * address from the host port */
	const char *c2 = NULL, *c1 = NULL;
	for (const char *p = spec; p < end; p++)
		if (*p == ':') {
			c1 = c2;
			c2 = p;
		}
	if (!c2 || port_of(c2 + 1, end, &f->guest_port) < 0)
		return -1;
	const char *hp = c1 ? c1 + 1 : spec;
	if (port_of(hp, c2, &f->host_port) < 0)
		return -1;
	if (c1) {
		size_t n = (size_t)(c1 - spec);
		if (n == 0 || n >= sizeof(f->host_addr))
			return -1;
		memcpy(f->host_addr, spec, n);
	}
	return 0;
}

int publish_parse(const char *spec, struct vm_forward *f)
{
	if (publish_spec(spec, f) == 0)
		return 0;
	fprintf(stderr,
		"fresco run: --publish %s: give [IP:]HOSTPORT:GUESTPORT[/udp], "
		"like 8080:80 or 127.0.0.1:5353:53/udp\n",
		spec);
	return EXIT_FRESCO;
}
