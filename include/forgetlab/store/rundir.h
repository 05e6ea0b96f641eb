/* rundir.h: the run directory every training command writes.
 *
 *   config.json        every setting, the seed and its streams, the version,
 *                      the data files used
 *   model.safetensors  the weights
 *   metrics.jsonl      one JSON object per logged step
 *   summary.json       the final figures
 * Every whole-file write is atomic; metrics.jsonl is appended line by line. */
#ifndef FORGETLAB_RUNDIR_H
#define FORGETLAB_RUNDIR_H

/* cJSON stays out of the public headers: users pass its objects through. */
struct cJSON;

typedef struct {
    char *dir;
    char *metrics_path;
} fl_rundir;

/* Creates dir (mkdir -p) and starts a fresh metrics.jsonl. */
int fl_rundir_open(fl_rundir *r, const char *dir);
/* Reopens dir to continue a run from a checkpoint taken at `upto`: keeps
 * the metrics.jsonl lines whose numeric field `key` is <= upto and drops
 * the rest (logged after the checkpoint, so they will be logged again),
 * rewriting the file atomically. A line that is not JSON (a torn last line
 * of a killed run) is dropped too. */
int fl_rundir_resume(fl_rundir *r, const char *dir, const char *key, double upto);
void fl_rundir_close(fl_rundir *r);

/* Writes obj as DIR/name (pretty JSON), atomically. */
int fl_rundir_write_json(const fl_rundir *r, const char *name, const struct cJSON *obj);
/* Appends obj as one line of metrics.jsonl. */
int fl_rundir_log(const fl_rundir *r, const struct cJSON *obj);
/* DIR/name, malloc'ed. */
char *fl_rundir_path(const fl_rundir *r, const char *name);

/* Writes any cJSON value atomically to path. */
int fl_json_write_file(const char *path, const struct cJSON *obj);
/* Writes a run's config.json: config and, under "environment", what ran
 * it (forgetlab's build, the BLAS library, its kernels and who chose
 * them, the OpenMP runtime, the CPU and its features), since the same
 * settings give other numbers on other kernels (blas.h). */
int fl_config_write_file(const char *path, const struct cJSON *config);
/* The "environment" object alone (NULL when out of memory). */
struct cJSON *fl_environment_json(void);
/* Parses a JSON file; error names the file and the position. */
int fl_json_read_file(const char *path, struct cJSON **out);

/* Before a command writes dir: 0 when dir is missing or empty, or holds a
 * run of this command whose config.json agrees with every key of identity
 * (JSON text of the settings that define a run; NULL: any run of the
 * command) - a rerun resumes or repeats it. Otherwise -1 naming what is
 * there, unless overwrite: then dir is moved aside (*replaced gets where)
 * and the caller calls fl_rundir_release when it is done. */
int fl_rundir_claim(const char *dir, const char *command, const char *identity, int overwrite, char **replaced);
/* Removes the moved-aside run when ok, else says where it is kept; frees. */
void fl_rundir_release(char *replaced, int ok);
/* -1 naming both when out is the run directory input (a model file or a
 * run directory, given with flag) belongs to. */
int fl_out_is_not_input(const char *out, const char *input, const char *flag);

#endif
