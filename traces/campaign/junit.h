/*
 * traces/campaign/junit.h - the JUnit XML report of a campaign: one
 * <testsuite> named after the KCore (or mutant, or "merged"), one
 * <testcase> per run: passed, <failure> for a violation (message
 * "invariant N: detail", the trace in the body), <error> for an internal
 * error; an interrupted campaign's report says so in a property
 * (partial = true). Text is escaped for XML attributes and content; control
 * characters XML 1.0 forbids become '?'.
 *
 * Why not libxml2's xmlTextWriter: the vocabulary is five elements and
 * one escape function; the library would add a build dependency (and a
 * pkg-config check, a package in scripts/deps.sh) for that.
 */
#ifndef HYPSIM_CAMPAIGN_JUNIT_H
#define HYPSIM_CAMPAIGN_JUNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "traces/campaign/record.h"

struct campaign_junit {
    const char *suite;              /* "hypsim explore SUITE", classname hypsim.explore.SUITE */
    const struct campaign_record *records;
    size_t n;
    double elapsed_s;               /* the testsuite's time */
    bool partial;                   /* an interrupted campaign: the testsuite gets
                                       <properties><property name="partial"
                                       value="true"/></properties> */
};

/* Write j's report to f (not closed; flushed). Returns 0, or -1 when f
 * has an error afterwards (errno says which). */
int campaign_junit_write(FILE *f, const struct campaign_junit *j);

/* Write s (NULL: nothing) to f escaped for XML text and attributes. */
void campaign_xml_escape(FILE *f, const char *s);

#endif
