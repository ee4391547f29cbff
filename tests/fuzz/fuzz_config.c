/*
 * fuzz_config.c - pgh_config_load() on whole files.
 *
 * The input is written to fuzz.ini in a private temp directory that also
 * holds a few files a config may name (q.sql, pw, pack.ini), so sql_file,
 * password_file and include (globs and cycles too) are exercised.  Every '/'
 * of the input becomes '_': an absolute or ../ path could make the parser
 * read anything on the machine (/dev/zero, /proc), so every name stays in
 * that directory.  A loaded config is printed (check-config) and freed; a
 * failed one must name the file in every line of its error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "pghealthd/config.h"
#include "pghealthd/log.h"

static char dir[] = "/tmp/pghealthd-fuzz-config.XXXXXX";
static char *path;

static void put(const char *name, const char *text, mode_t mode)
{
	char *p = pgh_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	chmod(p, mode);
	free(p);
}

static void cleanup(void)
{
	static const char *const names[] = {"fuzz.ini", "q.sql", "pw", "pack.ini", "empty.sql"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = pgh_xasprintf("%s/%s", dir, names[i]);

		unlink(p);
		free(p);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pgh_log_level = -1; /* nothing is logged */
	unsetenv("CREDENTIALS_DIRECTORY");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	path = pgh_xasprintf("%s/fuzz.ini", dir);
	put("q.sql", "SELECT 1 AS x\n", 0600);
	put("empty.sql", " \n", 0600);
	put("pw", "s3cret\nsecond line\n", 0600);
	put("pack.ini", "[check:from_pack]\nsql = SELECT 2\nseverity = warning\n", 0644);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgh_config *cfg = NULL;
	char *err = NULL, *text = NULL;
	size_t text_len = 0;
	FILE *f;
	int r;

	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	for (size_t i = 0; i < size; i++)
		if (putc(data[i] == '/' ? '_' : data[i], f) == EOF)
			abort();
	if (fclose(f) != 0)
		abort();
	chmod(path, 0600);
	r = pgh_config_load(path, &cfg, &err);
	if (r < 0) {
		FUZZ_CHECK(cfg == NULL, "a failed load returned a config");
		FUZZ_CHECK(err != NULL && err[0] != '\0', "a failed load (%d) says nothing", r);
		/* Every line names the file it is about. */
		for (const char *line = err, *nl; line != NULL; line = nl != NULL ? nl + 1 : NULL) {
			FUZZ_CHECK(strncmp(line, dir, strlen(dir)) == 0,
			           "error line without a file name: %.200s", line);
			nl = strchr(line, '\n');
		}
		free(err);
		return 0;
	}
	FUZZ_CHECK(r == 0 && cfg != NULL && err == NULL, "load returned %d", r);
	for (size_t i = 0; i < cfg->n_checks; i++) {
		FUZZ_CHECK(pgh_check_name_valid(cfg->checks[i].name), "check name '%s'",
		           cfg->checks[i].name);
		FUZZ_CHECK(cfg->checks[i].sql != NULL, "check %s without sql", cfg->checks[i].name);
	}
	FUZZ_CHECK(cfg->min_connections >= 1 && cfg->min_connections <= cfg->max_connections &&
	               cfg->max_connections <= PGH_MAX_CONNECTIONS_LIMIT,
	           "pool %u..%u", cfg->min_connections, cfg->max_connections);
	f = open_memstream(&text, &text_len);
	if (f == NULL)
		abort();
	pgh_config_print(cfg, f);
	fclose(f);
	/* The password read from password_file is never printed. */
	if (cfg->password != NULL && !memmem(data, size, "s3cret", 6))
		FUZZ_CHECK(strstr(text, "s3cret") == NULL, "check-config printed the password");
	free(text);
	pgh_config_free(cfg);
	return 0;
}
