/*
 * main.c - command line: pick the config file and the mode, nothing else.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pghealthd/config.h"
#include "pghealthd/daemon.h"
#include "pghealthd/exec.h"
#include "pghealthd/lambda.h"
#include "pghealthd/settings.h"
#include "pghealthd/log.h"
#include "pghealthd/status.h"

#ifndef PGHEALTHD_VERSION
#define PGHEALTHD_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	fputs("Usage:\n"
	      "  pghealthd [-c FILE] [run]          a round every interval until SIGTERM\n"
	      "  pghealthd [-c FILE] once           one round; exit 0 OK, 1 WARNING,\n"
	      "                                     2 CRITICAL, 3 UNKNOWN\n"
	      "  pghealthd [-c FILE] check-config   validate and print the resolved checks\n"
	      "  pghealthd [-c FILE] status         the latest round's status.csv as a table;\n"
	      "                                     exit code as `once` gave\n"
	      "  pghealthd [-c FILE] exec [--max-rows N] [--timeout DUR] [--no-results] "
	      "[--database NAME] SQL\n"
	      "  pghealthd [-c FILE] exec --event FILE|-\n"
	      "                                     one query, typed JSON on stdout\n"
	      "  pghealthd [-c FILE] lambda         the same as an AWS Lambda function\n"
	      "  pghealthd --help | --version\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE   configuration file (default: $PGHEALTHD_CONFIG, else\n"
	      "                      " PGH_CONFIG_DEFAULT_PATH ")\n"
	      "  -h, --help          show this help\n"
	      "  -V, --version       show the version\n",
	      out);
}

static const char *config_path(const char *opt)
{
	const char *env = getenv("PGHEALTHD_CONFIG");

	if (opt != NULL)
		return opt;
	if (env != NULL && env[0] != '\0')
		return env;
	return PGH_CONFIG_DEFAULT_PATH;
}

/* Load; for the commands that run checks, insist that there are some. */
static int load(const char *path, struct pgh_config **cfg, bool need_checks)
{
	char *err = NULL;

	if (pgh_config_load(path, cfg, &err) < 0 ||
	    (need_checks && pgh_config_require_checks(*cfg, &err) < 0)) {
		fprintf(stderr, "%s", err != NULL ? err : "configuration error\n");
		if (err != NULL && err[0] != '\0' && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		free(err);
		pgh_config_free(*cfg);
		*cfg = NULL;
		return PGH_EXIT_CONFIG;
	}
	return 0;
}

/*
 * libuv's threadpool serves the files only (a cancel has a thread of its
 * own): four threads keep the disk busy, and more only fight over the
 * output directory's lock (1000 small files on 2 cores: 0.16 s of system
 * time with 4 threads, 0.27-0.46 s with 16).  It must be set before the
 * first request is queued; UV_THREADPOOL_SIZE in the environment wins.
 */
static void tune_environment(void)
{
	setenv("UV_THREADPOOL_SIZE", "4", 0);
	signal(SIGPIPE, SIG_IGN);
}

/* run, once, check-config and status: load the configuration, then act. */
static int run_command(const char *cmd, const char *path)
{
	struct pgh_config *cfg = NULL;
	const char *nc = getenv("NO_COLOR");
	int r = load(path, &cfg, strcmp(cmd, "status") != 0);

	if (r != 0)
		return r;
	pgh_log_level = cfg->log_level;
	if (strcmp(cmd, "status") != 0)
		pgh_settings_log(cfg);
	if (strcmp(cmd, "status") == 0) {
		r = pgh_status_show(cfg->output_dir, stdout,
		                    isatty(STDOUT_FILENO) && (nc == NULL || nc[0] == '\0'),
		                    pgh_status_max_age(cfg));
		pgh_config_free(cfg);
		return r;
	}
	if (strcmp(cmd, "check-config") == 0) {
		pgh_config_print(cfg, stdout);
		pgh_config_free(cfg);
		return 0;
	}
	tune_environment();
	return pgh_daemon_main(cfg, strcmp(cmd, "once") == 0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *cpath = NULL, *cmd = "run";
	int c;

	pgh_log_init();
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cpath = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("pghealthd %s\n", PGHEALTHD_VERSION);
			return 0;
		default:
			usage(stderr);
			return PGH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (strcmp(cmd, "exec") == 0) {
		tune_environment();
		return pgh_exec_main(config_path(cpath),
		                     cpath != NULL || getenv("PGHEALTHD_CONFIG"), argc - optind + 1,
		                     argv + optind - 1);
	}
	if (strcmp(cmd, "lambda") == 0 && optind == argc) {
		tune_environment();
		return pgh_lambda_main(config_path(cpath),
		                       cpath != NULL || getenv("PGHEALTHD_CONFIG"));
	}
	if (optind < argc || (strcmp(cmd, "run") != 0 && strcmp(cmd, "once") != 0 &&
	                      strcmp(cmd, "check-config") != 0 && strcmp(cmd, "status") != 0)) {
		fprintf(stderr, "pghealthd: unknown command or extra argument: %s\n",
		        optind < argc ? argv[optind] : cmd);
		usage(stderr);
		return PGH_EXIT_USAGE;
	}
	return run_command(cmd, config_path(cpath));
}
