/* razor_plots.c: the figures of a razor study, then index.html. */
#include "forgetlab/report.h"

int fl_razor_report(const char *dir, const fl_points *p, const fl_predictor_fit *pf, int np,
                    const fl_frontier_fit *ff, int nf) {
    return fl_razor_write_html(dir, p, pf, np, ff, nf, NULL, 0);
}
