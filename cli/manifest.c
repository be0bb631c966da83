/* manifest.c: reading a Frescofile (YAML, with libyaml).
 *
 * The whole document is loaded (yaml_parser_load), then walked: every
 * node keeps its line and column, so each error names where it is. The
 * top level is a mapping; an unknown key is an error with a suggestion.
 */
#include "cli.h"
#include "lib/lib.h"
#include "vmm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char *const keys[] = {
	"program", "args", "env",   "workdir", "files",
	"memory",  "cpus", "ports", "volumes", NULL,
};

struct reader {
	const char *file;
	yaml_document_t doc;
};

__attribute__((format(printf, 3, 4))) static int
fail_at(const struct reader *r, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fresco: %s:%zu:%zu: ", r->file, n->start_mark.line + 1,
		n->start_mark.column + 1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Edit distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32];
	if (lb >= 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0]++;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int want_scalar(const struct reader *r, const yaml_node_t *n,
		       const char *key, char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail_at(r, n, "'%s' must be a single value", key);
	*out = strdup(scalar(n));
	return *out ? 0 : -1;
}

/* Entry (k) of the sequence node (n). */
static yaml_node_t *seq_item(const struct reader *r, const yaml_node_t *n,
			     size_t k)
{
	return yaml_document_get_node((yaml_document_t *)&r->doc,
				      n->data.sequence.items.start[k]);
}

static int want_list(const struct reader *r, const yaml_node_t *n,
		     const char *key, char ***out)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(r, n,
			       "'%s' must be a list of strings, like "
			       "[a, b]",
			       key);
	size_t count = (size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start);
	char **v = calloc(count + 1, sizeof(char *));
	if (!v)
		return -1;
	for (size_t k = 0; k < count; k++) {
		yaml_node_t *item = seq_item(r, n, k);
		if (item->type != YAML_SCALAR_NODE)
			return fail_at(r, item,
				       "each entry of '%s' must be a string",
				       key);
		v[k] = strdup(scalar(item));
	}
	*out = v;
	return 0;
}

static int read_env(const struct reader *r, const yaml_node_t *n,
		    struct manifest *m)
{
	if (n->type != YAML_MAPPING_NODE)
		return fail_at(r, n, "'env' must be a mapping of NAME: value");
	size_t count = (size_t)(n->data.mapping.pairs.top -
				n->data.mapping.pairs.start);
	m->env = calloc(count + 1, sizeof(char *));
	if (!m->env)
		return -1;
	for (size_t k = 0; k < count; k++) {
		yaml_node_pair_t *p = &n->data.mapping.pairs.start[k];
		yaml_node_t *kn = yaml_document_get_node(
			(yaml_document_t *)&r->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(
			(yaml_document_t *)&r->doc, p->value);
		if (kn->type != YAML_SCALAR_NODE || !*scalar(kn) ||
		    strchr(scalar(kn), '='))
			return fail_at(r, kn,
				       "'env' names must be words "
				       "without '='");
		if (vn->type != YAML_SCALAR_NODE)
			return fail_at(r, vn,
				       "the value of env %s must be a "
				       "string",
				       scalar(kn));
		size_t len = strlen(scalar(kn)) + strlen(scalar(vn)) + 2;
		m->env[k] = malloc(len);
		snprintf(m->env[k], len, "%s=%s", scalar(kn), scalar(vn));
	}
	return 0;
}

static int read_files(const struct reader *r, const yaml_node_t *n,
		      struct manifest *m)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(r, n, "'files' must be a list of {src, dest}");
	size_t count = (size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start);
	m->files = calloc(count ? count : 1, sizeof(*m->files));
	if (!m->files)
		return -1;
	for (size_t k = 0; k < count; k++) {
		yaml_node_t *e =
			yaml_document_get_node((yaml_document_t *)&r->doc,
					       n->data.sequence.items.start[k]);
		struct copy_rule *c = &m->files[m->nfiles++];
		c->line = (int)e->start_mark.line + 1;
		c->column = (int)e->start_mark.column + 1;
		if (e->type != YAML_MAPPING_NODE)
			return fail_at(r, e,
				       "each entry of 'files' must be "
				       "{src: PATH, dest: PATH}");
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start;
		     p < e->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_document_get_node(
				(yaml_document_t *)&r->doc, p->key);
			yaml_node_t *vn = yaml_document_get_node(
				(yaml_document_t *)&r->doc, p->value);
			const char *key =
				kn->type == YAML_SCALAR_NODE ? scalar(kn) : "";
			char **slot = strcmp(key, "src") == 0	 ? &c->src
				      : strcmp(key, "dest") == 0 ? &c->dest
								 : NULL;
			if (!slot)
				return fail_at(r, kn,
					       "unknown key '%s' in a "
					       "'files' entry; use src "
					       "and dest",
					       key);
			if (want_scalar(r, vn, key, slot) < 0)
				return -1;
		}
		if (!c->src || !c->dest)
			return fail_at(r, e,
				       "a 'files' entry needs both src "
				       "and dest");
		if (c->dest[0] != '/')
			return fail_at(r, e,
				       "dest '%s' must be an absolute "
				       "path in the image",
				       c->dest);
	}
	return 0;
}

static int read_key(const struct reader *r, const yaml_node_t *kn,
		    const yaml_node_t *vn, struct manifest *m)
{
	const char *key = scalar(kn);
	char *text = NULL;

	if (strcmp(key, "program") == 0) {
		m->program_line = (int)vn->start_mark.line + 1;
		m->program_column = (int)vn->start_mark.column + 1;
		return want_scalar(r, vn, key, &m->program);
	}
	if (strcmp(key, "args") == 0)
		return want_list(r, vn, key, &m->args);
	if (strcmp(key, "env") == 0)
		return read_env(r, vn, m);
	if (strcmp(key, "workdir") == 0) {
		if (want_scalar(r, vn, key, &m->workdir) < 0)
			return -1;
		if (m->workdir[0] != '/')
			return fail_at(r, vn,
				       "'workdir' must be an absolute "
				       "path, like /app");
		return 0;
	}
	if (strcmp(key, "files") == 0)
		return read_files(r, vn, m);
	if (strcmp(key, "memory") == 0) {
		if (want_scalar(r, vn, key, &text) < 0)
			return -1;
		m->memory = parse_size(text);
		free(text);
		if (m->memory < (2ULL << 20) || m->memory > (3ULL << 30))
			return fail_at(r, vn,
				       "'memory' must be a size from "
				       "2M to 3G, like 64M");
		return 0;
	}
	if (strcmp(key, "cpus") == 0) {
		if (want_scalar(r, vn, key, &text) < 0)
			return -1;
		char *end;
		long n = strtol(text, &end, 10);
		int bad = *end || n < 1 || n > 1;
		free(text);
		if (bad)
			return fail_at(r, vn,
				       "'cpus' must be 1 (a VM has one "
				       "vCPU for now)");
		m->cpus = (int)n;
		return 0;
	}
	if (strcmp(key, "ports") == 0) {
		if (want_list(r, vn, key, &m->ports) < 0)
			return -1;
		for (int k = 0; m->ports[k]; k++) {
			struct vm_forward f;
			if (publish_spec(m->ports[k], &f) < 0)
				return fail_at(
					r, seq_item(r, vn, k),
					"each entry of 'ports' must be "
					"[IP:]HOSTPORT:GUESTPORT[/udp], like "
					"8080:80");
		}
		return 0;
	}
	if (strcmp(key, "volumes") == 0) {
		if (want_list(r, vn, key, &m->volumes) < 0)
			return -1;
		for (int k = 0; m->volumes[k]; k++)
			if (!volume_path_ok(m->volumes[k]))
				return fail_at(
					r, seq_item(r, vn, k),
					"each entry of 'volumes' must be an "
					"absolute directory other than /, "
					"without spaces, '.' or '..', like "
					"/data");
		return 0;
	}

	const char *best = NULL;
	size_t best_d = 3;
	for (int k = 0; keys[k]; k++) {
		size_t d = distance(key, keys[k]);
		if (d < best_d) {
			best_d = d;
			best = keys[k];
		}
	}
	if (best)
		return fail_at(r, kn, "unknown key '%s'; did you mean '%s'?",
			       key, best);
	return fail_at(r, kn, "unknown key '%s'; see docs/manifest.md", key);
}

int manifest_load(const char *path, struct manifest *m)
{
	struct reader r = {.file = path};
	yaml_parser_t parser;
	FILE *f = fopen(path, "rb");
	int ret = -1;

	memset(m, 0, sizeof(*m));
	m->file = path;
	if (!f) {
		fprintf(stderr, "fresco: %s: %s\n", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &r.doc)) {
		fprintf(stderr, "fresco: %s:%zu:%zu: not valid YAML: %s\n",
			path, parser.problem_mark.line + 1,
			parser.problem_mark.column + 1,
			parser.problem ? parser.problem : "unknown error");
		goto err_parser;
	}
	yaml_node_t *root = yaml_document_get_root_node(&r.doc);
	if (!root) {
		fprintf(stderr,
			"fresco: %s: the manifest is empty; it needs at "
			"least 'program'\n",
			path);
		goto err_doc;
	}
	if (root->type != YAML_MAPPING_NODE) {
		fail_at(&r, root,
			"the manifest must be a mapping of keys, "
			"like 'program: ./app'");
		goto err_doc;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&r.doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&r.doc, p->value);
		if (kn->type != YAML_SCALAR_NODE) {
			fail_at(&r, kn, "keys must be words");
			goto err_doc;
		}
		if (read_key(&r, kn, vn, m) < 0)
			goto err_doc;
	}
	if (!m->program) {
		fail_at(&r, root,
			"'program' is missing: name the program to "
			"run, like 'program: ./app'");
		goto err_doc;
	}
	ret = 0;
err_doc:
	yaml_document_delete(&r.doc);
err_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}
