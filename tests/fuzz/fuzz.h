/*
 * fuzz.h - what every fuzz target defines, and the one way they fail.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize).  Built with clang's -fsanitize=fuzzer it is a
 * libFuzzer binary; linked with replay.c (any compiler) it runs the inputs
 * named on its command line once each: the regression tests.
 */
#ifndef PGHEALTHD_FUZZ_H
#define PGHEALTHD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property does not hold: say which, then abort (libFuzzer keeps the input). */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__,        \
			        #cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
