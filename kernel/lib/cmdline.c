/* cmdline.c: splitting and quoting the kernel command line (grammar in lib.h).
 */
#include "lib.h"
#include <string.h>

#define ENV_PARAM "fresco.env="
#define TTY_PARAM "fresco.tty="
#define INIT_PARAM "init="
#define FAULT_PARAM "fresco.fault="
#define CWD_PARAM "fresco.cwd="
#define VIRTIO_PARAM "virtio_mmio.device="
#define MOUNT_PARAM "fresco.mount="
#define DEFAULT_INIT "/init"

/*
 * Cut the next word out of (*sp) in place, removing quotes and escapes.
 * Returns the word, NULL at the end, or sets (*err) for an open quote.
 */
static char *next_word(char **sp, int *err)
{
	char *s = *sp, *out;
	int quoted = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (*s == '\0')
		return NULL;
	char *word = out = s;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			*out++ = *++s;
		} else if (*s == '"') {
			quoted = !quoted;
		} else if (!quoted && (*s == ' ' || *s == '\t' || *s == '\n')) {
			s++;
			break;
		} else {
			*out++ = *s;
		}
	}
	if (quoted)
		*err = -EINVAL;
	*out = '\0';
	/* (out) never passes (s): the terminator cannot clobber the next word
	 */
	*sp = s;
	return word;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A number at (*p): decimal, or hex after 0x; advances (*p). */
static int parse_num(char **p, uint64_t *v)
{
	char *s = *p;
	unsigned base = 10;
	uint64_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	char *start = s;
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (n > (UINT64_MAX - d) / base)
			return -EINVAL;
		n = n * base + d;
	}
	if (s == start)
		return -EINVAL;
	*v = n;
	*p = s;
	return 0;
}

static int parse_virtio(char *s, struct boot_virtio *d)
{
	uint64_t irq;

	if (parse_num(&s, &d->size) < 0)
		return -EINVAL;
	unsigned shift = *s == 'K' || *s == 'k'	  ? 10
			 : *s == 'M' || *s == 'm' ? 20
			 : *s == 'G' || *s == 'g' ? 30
						  : 0;
	if (shift) {
		if (d->size >> (64 - shift))
			return -EINVAL;
		d->size <<= shift;
		s++;
	}
	if (*s++ != '@' || parse_num(&s, &d->addr) < 0 || *s++ != ':' ||
	    parse_num(&s, &irq) < 0 || irq > 255)
		return -EINVAL;
	/* Linux allows a trailing :ID for the platform device id */
	if (*s == ':') {
		uint64_t id;
		s++;
		if (parse_num(&s, &id) < 0)
			return -EINVAL;
	}
	if (*s || d->size == 0)
		return -EINVAL;
	d->irq = (unsigned)irq;
	return 0;
}

static int parse_mount(char *s, struct boot_mount *m)
{
	char *colon = strchr(s, ':');
	if (!colon || colon == s || colon[1] != '/')
		return -EINVAL;
	*colon = '\0';
	m->device = s;
	m->path = colon + 1;
	m->readonly = 0;
	char *opt = strchr(colon + 1, ':');
	if (opt) {
		*opt = '\0';
		if (strcmp(opt + 1, "ro") == 0)
			m->readonly = 1;
		else if (strcmp(opt + 1, "rw") != 0)
			return -EINVAL;
	}
	return 0;
}

int cmdline_parse(char *s, char **argv, char **envp, int cap,
		  struct boot_args *a)
{
	int err = 0, after_dashes = 0;
	char *w;

	a->init = DEFAULT_INIT;
	a->argv = argv;
	a->envp = envp;
	a->argc = 1; /* argv[0] is filled in at the end */
	a->envc = 0;
	a->tty = 0;
	a->fault = NULL;
	a->cwd = NULL;
	a->nvirtio = 0;
	a->nmounts = 0;
	a->ip = a->gw = a->dns = NULL;
	a->link_up = a->callpatch_off = 0;
	if (cap < 2)
		return -E2BIG;
	while ((w = next_word(&s, &err)) != NULL) {
		if (err)
			return err;
		if (after_dashes) {
			if (a->argc + 1 >= cap)
				return -E2BIG;
			argv[a->argc++] = w;
		} else if (strcmp(w, "--") == 0) {
			after_dashes = 1;
		} else if (starts_with(w, INIT_PARAM)) {
			a->init = w + strlen(INIT_PARAM);
		} else if (starts_with(w, ENV_PARAM)) {
			if (a->envc + 1 >= cap)
				return -E2BIG;
			envp[a->envc++] = w + strlen(ENV_PARAM);
		} else if (starts_with(w, CWD_PARAM)) {
			a->cwd = w + strlen(CWD_PARAM);
		} else if (starts_with(w, FAULT_PARAM)) {
			a->fault = w + strlen(FAULT_PARAM);
		} else if (starts_with(w, VIRTIO_PARAM)) {
			if (a->nvirtio >= BOOT_VIRTIO_MAX)
				return -E2BIG;
			if (parse_virtio(w + strlen(VIRTIO_PARAM),
					 &a->virtio[a->nvirtio++]) < 0)
				return -EINVAL;
		} else if (starts_with(w, MOUNT_PARAM)) {
			if (a->nmounts >= BOOT_MOUNT_MAX)
				return -E2BIG;
			if (parse_mount(w + strlen(MOUNT_PARAM),
					&a->mounts[a->nmounts++]) < 0)
				return -EINVAL;
		} else if (starts_with(w, "fresco.ip=")) {
			a->ip = w + strlen("fresco.ip=");
		} else if (starts_with(w, "fresco.gw=")) {
			a->gw = w + strlen("fresco.gw=");
		} else if (starts_with(w, "fresco.dns=")) {
			a->dns = w + strlen("fresco.dns=");
		} else if (strcmp(w, "fresco.link=up") == 0) {
			a->link_up = 1;
		} else if (strcmp(w, "fresco.callpatch=0") == 0) {
			a->callpatch_off = 1;
		} else if (starts_with(w, TTY_PARAM)) {
			a->tty = strcmp(w + strlen(TTY_PARAM), "1") == 0;
		}
	}
	if (err)
		return err;
	argv[0] = (char *)a->init;
	argv[a->argc] = NULL;
	envp[a->envc] = NULL;
	return 0;
}

size_t cmdline_quote(char *dst, size_t cap, const char *word)
{
	size_t n = 0;
	int plain = *word != '\0';

	for (const char *p = word; *p; p++)
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '"' ||
		    *p == '\\')
			plain = 0;
#define EMIT(c)                       \
	do {                          \
		if (n + 1 < cap)      \
			dst[n] = (c); \
		n++;                  \
	} while (0)
	if (!plain)
		EMIT('"');
	for (const char *p = word; *p; p++) {
		if (*p == '"' || *p == '\\')
			EMIT('\\');
		EMIT(*p);
	}
	if (!plain)
		EMIT('"');
#undef EMIT
	if (cap)
		dst[n < cap ? n : cap - 1] = '\0';
	return n;
}
