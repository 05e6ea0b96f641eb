/* main.c: the forgetlab command line: dispatches to one subcommand per file
 * (cmd_*.c) and answers --help and --version. */
#include "blas_dispatch.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

extern const fl_command fl_cmd_pretrain, fl_cmd_eval, fl_cmd_finetune, fl_cmd_measure, fl_cmd_study,
    fl_cmd_report, fl_cmd_circuits, fl_cmd_grok, fl_cmd_merge, fl_cmd_lm_pretrain, fl_cmd_lm_finetune,
    fl_cmd_sample, fl_cmd_env, fl_cmd_compare;

static const fl_command *const COMMANDS[] = {&fl_cmd_pretrain, &fl_cmd_eval, &fl_cmd_finetune,
                                             &fl_cmd_measure, &fl_cmd_study, &fl_cmd_merge, &fl_cmd_compare,
                                             &fl_cmd_report,
                                             &fl_cmd_circuits, &fl_cmd_grok, &fl_cmd_lm_pretrain, &fl_cmd_lm_finetune,
                                             &fl_cmd_sample, &fl_cmd_env};
#define NCOMMANDS ((int)(sizeof COMMANDS / sizeof *COMMANDS))

static void print_help(FILE *f) {
    fputs("usage: forgetlab COMMAND [OPTIONS]\n"
          "\n"
          "Trains small networks, fine-tunes them by SFT or on-policy RL, and measures\n"
          "what they forget and why.\n"
          "\n"
          "Commands:\n", f);
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i]->name, COMMANDS[i]->summary);
    fputs("\n"
          "Options:\n"
          "  --help     show this help\n"
          "  --version  print the version (--version --verbose: and what it runs on,\n"
          "             as 'forgetlab env')\n"
          "  --blas-core auto|keep|NAME\n"
          "             the matrix kernels, for any command (see 'forgetlab env --help')\n"
          "\n"
          "Run 'forgetlab COMMAND --help' for a command's options.\n", f);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--blas-self-check") == 0) return fl_blas_self_check_main();
    if (fl_blas_dispatch(&argc, argv)) return FL_EXIT_USAGE;
    if (argc < 2) {
        print_help(stderr);
        return FL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return FL_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        if (argc > 2 && strcmp(argv[2], "--verbose") == 0) return fl_env_print(0);
        printf("forgetlab %s\n", FORGETLAB_VERSION);
        return FL_EXIT_OK;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, COMMANDS[i]->name) == 0) return COMMANDS[i]->main(argc - 1, argv + 1);
    fprintf(stderr, "forgetlab: unknown command '%s'\nTry 'forgetlab --help'.\n", cmd);
    return FL_EXIT_USAGE;
}
