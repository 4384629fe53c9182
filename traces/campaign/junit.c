/*
 * traces/campaign/junit.c - the JUnit XML writer (junit.h).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "traces/campaign/junit.h"

void campaign_xml_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n')
                fputc('?', f);
            else
                fputc(c, f);
        }
    }
}

int campaign_junit_write(FILE *f, const struct campaign_junit *j)
{
    const struct campaign_record *k = j->records;
    uint64_t fails = 0, errs = 0;

    for (size_t i = 0; i < j->n; i++) {
        fails += k[i].status == CAMPAIGN_VIOLATION;
        errs += k[i].status == CAMPAIGN_ERROR;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    fprintf(f, "  <testsuite name=\"hypsim explore ");
    campaign_xml_escape(f, j->suite);
    fprintf(f, "\" tests=\"%zu\" failures=\"%" PRIu64 "\" errors=\"%" PRIu64 "\" time=\"%.3f\">\n",
            j->n, fails, errs, j->elapsed_s);
    if (j->partial)
        fprintf(f, "    <properties>\n      <property name=\"partial\" value=\"true\"/>\n    </properties>\n");
    for (size_t i = 0; i < j->n; i++) {
        bool viol = k[i].status == CAMPAIGN_VIOLATION;
        fprintf(f, "    <testcase classname=\"hypsim.explore.");
        campaign_xml_escape(f, j->suite);
        fprintf(f, "\" name=\"run %" PRIu64 " seed %" PRIu64 "\" time=\"%.3f\"", k[i].run, k[i].seed,
                k[i].elapsed_s);
        if (k[i].status == CAMPAIGN_OK) {
            fprintf(f, "/>\n");
            continue;
        }
        fprintf(f, ">\n      <%s message=\"", viol ? "failure" : "error");
        if (viol)
            fprintf(f, "invariant %d: ", k[i].invariant);
        campaign_xml_escape(f, k[i].detail);
        fprintf(f, "\" type=\"%s\">", viol ? "isolation violation" : "internal error");
        if (k[i].trace) {
            fprintf(f, "trace: ");
            campaign_xml_escape(f, k[i].trace);
            fprintf(f, " (hypsim replay FILE --log)");
        }
        fprintf(f, "</%s>\n    </testcase>\n", viol ? "failure" : "error");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    if (fflush(f) != 0 || ferror(f))
        return -1;
    return 0;
}
