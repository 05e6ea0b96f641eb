/* cmd_env.c: `forgetlab env`, what this machine runs forgetlab on: the
 * build, the BLAS library and its kernels, the OpenMP runtime, the CPU and
 * its features; what a bug report or a benchmark should quote. */
#include "blas_dispatch.h"
#include "cli.h"

#include "forgetlab/core/blas.h"
#include "forgetlab/core/error.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: forgetlab env [--json]\n"
    "\n"
    "Prints what forgetlab runs on: its build, the BLAS library and the kernels\n"
    "(core) it chose, who chose them (OpenBLAS from the CPU's model name, the\n"
    "environment's OPENBLAS_CORETYPE, or forgetlab, which re-executes itself on\n"
    "a better core when OpenBLAS fell back below the CPU's), the best core for\n"
    "this CPU, the threading, the OpenMP version, the CPU and its features, and\n"
    "whether the loaded kernels pass the self-check (products of forgetlab's\n"
    "shapes against double precision). Every run's config.json records the same\n"
    "under \"environment\" (docs/design.md, \"Matrix kernels\").\n"
    "\n"
    "Global option, for any command: --blas-core auto|keep|NAME (or the\n"
    "variable FORGETLAB_BLAS_CORE): auto (the default) switches only from a core\n"
    "below the CPU's and never overrides OPENBLAS_CORETYPE; keep never switches;\n"
    "a NAME (Haswell, SkylakeX, ...) runs that core.\n"
    "\n"
    "Options:\n"
    "  --json  the same as one JSON object\n";

enum { O_JSON = 256 };
static const struct option OPTS[] = {{"json", no_argument, 0, O_JSON}, {0, 0, 0, 0}};

static int handle(int opt, const char *v, void *ctx) {
    (void)v;
    if (opt != O_JSON) return -1;
    *(int *)ctx = 1;
    return 0;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_env = {"env", "print the build, BLAS kernels, OpenMP and CPU forgetlab runs on", run, HELP};

static const char *text_of(const cJSON *e, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
    return cJSON_IsString(v) ? v->valuestring : "?";
}

int fl_env_print(int json) {
    fl_set_threads(0);
    cJSON *e = fl_environment_json();
    if (!e) return fl_error_set("out of memory"), fl_fail("env");
    const int ok = fl_blas_self_check() == 0;
    cJSON_AddNumberToObject(e, "threads", fl_get_threads());
    cJSON_AddBoolToObject(e, "blas_self_check", ok);
    if (!ok) cJSON_AddStringToObject(e, "blas_self_check_error", fl_error_msg());
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (json) {
        char *t = cJSON_Print(e);
        if (t) printf("%s\n", t);
        free(t);
    } else {
        printf("forgetlab      %s\n", text_of(e, "forgetlab"));
        printf("BLAS           %s\n", text_of(e, "blas"));
        printf("BLAS core      %s (chosen by %s%s%s; best for this CPU: %s)\n", text_of(e, "blas_core"),
               text_of(e, "blas_core_chosen_by"), user ? ": OPENBLAS_CORETYPE=" : "", user ? user : "",
               text_of(e, "blas_core_best")[0] ? text_of(e, "blas_core_best") : "none better than SSE");
        printf("self-check     %s\n", ok ? "passed" : fl_error_msg());
        printf("threading      %s, %d threads (of %d cores)\n", text_of(e, "blas_threading"), fl_get_threads(),
               fl_cpu_count());
        printf("OpenMP         %d\n", (int)cJSON_GetObjectItemCaseSensitive(e, "openmp")->valuedouble);
        printf("CPU            %s\n", text_of(e, "cpu"));
        printf("CPU features   %s\n", text_of(e, "cpu_features"));
    }
    cJSON_Delete(e);
    return ok ? FL_EXIT_OK : FL_EXIT_FAIL;
}

static int run(int argc, char **argv) {
    int json = 0, npos = 0;
    char **pos;
    const int rc = fl_parse_args(argc, argv, &fl_cmd_env, OPTS, handle, &json, &pos, &npos);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (npos) return fl_usage_error("env", "takes no arguments");
    return fl_env_print(json);
}
