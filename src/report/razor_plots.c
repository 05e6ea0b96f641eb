/* razor_plots.c: the figures of a razor study, then index.html. */
#include "forgetlab/report.h"

int fl_razor_report(const char *dir, const fl_razor_analysis *a) {
    return fl_razor_write_html(dir, a, NULL, 0);
}
