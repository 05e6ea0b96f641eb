/* csv.h: reading the CSV tables the studies write (results.csv,
 * predictors.csv, methods.csv, frontier.csv): a header row of column
 * names, then rows of fields, RFC 4180 quoting ("a,b" and "" inside
 * quotes). Cells are kept as text; fl_csv_num reads one as a number. */
#ifndef FORGETLAB_CSV_H
#define FORGETLAB_CSV_H

#include <stdio.h>

typedef struct {
    int ncols, nrows;
    char **head;   /* [ncols] */
    char **cell;   /* [nrows * ncols], row-major; "" where a row is short */
} fl_csv;

/* The whole file; -1 naming it when it is missing, empty or has a row
 * longer than its header. */
int fl_csv_read(const char *path, fl_csv *t);
/* The same from text of len bytes; name says whose in an error. */
int fl_csv_parse(const char *text, size_t len, const char *name, fl_csv *t);
void fl_csv_free(fl_csv *t);
/* The index of a column by name, or -1. */
int fl_csv_col(const fl_csv *t, const char *name);
/* Row r's cell of column c ("" when c < 0). */
const char *fl_csv_get(const fl_csv *t, int r, int c);
/* The same as a number: NaN when the cell is empty, not a number, or the
 * column is absent (c < 0). */
double fl_csv_num(const fl_csv *t, int r, int c);
/* fl_csv_num of the column named col (NaN when there is none). */
double fl_csv_num_of(const fl_csv *t, int r, const char *col);

/* Writes one field, quoted when it holds a comma, a quote or a newline,
 * then a comma, or a newline when it is the row's last. */
void fl_csv_put(FILE *f, const char *v, int last);

#endif
