/*
 * lambda.h - `pghealthd lambda`: the query executor as an AWS Lambda
 * custom runtime.
 */
#ifndef PGHEALTHD_LAMBDA_H
#define PGHEALTHD_LAMBDA_H

#include <stdbool.h>

/*
 * Serve invocations from the Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API
 * until it goes away.  config_path and explicit_path as for exec.  Returns
 * the exit code: 78 after reporting a configuration error to the runtime's
 * init/error, 64 without a runtime API, 70 when the runtime went away.
 */
int pgh_lambda_main(const char *config_path, bool explicit_path);

#endif
