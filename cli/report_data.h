/* report_data.h: the figures of report and compare, computed from a run's
 * aggregates (db_read.h) into a report document (report_doc.h).  See
 * report_data.c for every definition. */
#ifndef CLI_REPORT_DATA_H
#define CLI_REPORT_DATA_H

#include "db_read.h"
#include "report_doc.h"

cli_doc *cli_report_doc(const char *file, const cli_rd_data *d);
/* n runs side by side; files[i] is the file run i came from. */
cli_doc *cli_compare_doc(int n, const char *const *files, const cli_rd_data *d);

#endif
