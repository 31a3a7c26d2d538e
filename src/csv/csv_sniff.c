/* Dialect sniffing: which delimiter (and quote) a CSV sample uses. */
#include <pond/csv.h>

#include "util/util.h"

#include <stdio.h>
#include <string.h>

#define MAX_RECORDS 200

static bool blank(char c) { return c == ' ' || c == '\t'; }

/* Counts the fields of the record at data[*pos] and moves *pos past it. Quote-aware: a quoted
 * field may hold delimiters and newlines. Returns -1 when the record is cut off by the end of
 * a sample that is not the whole input. */
static int count_record(const char *data, size_t len, size_t *pos, char d, char q, bool spaced,
                        bool at_eof, bool *wide_gap)
{
    size_t p = *pos;
    int fields = 1;
    bool field_start = true;
    if (spaced)
        while (p < len && blank(data[p]))
            p++;
    while (p < len) {
        char c = data[p];
        if (field_start && c == q) {
            p++;
            for (;;) {
                const char *e = memchr(data + p, q, len - p);
                if (!e)
                    return at_eof ? fields : -1;
                p = (size_t)(e - data) + 1;
                if (p < len && data[p] == q) {
                    p++;
                    continue;
                }
                break;
            }
            field_start = false;
            continue;
        }
        if (c == '\n') {
            *pos = p + 1;
            return fields;
        }
        if (spaced ? blank(c) : c == d) {
            if (spaced) {
                size_t run = 0;
                while (p < len && blank(data[p]))
                    p++, run++;
                if (run >= 2 || data[p - 1] == '\t')
                    *wide_gap = true;
                if (p >= len || data[p] == '\n' || data[p] == '\r')
                    continue; /* trailing blanks are not a field */
                fields++;
                field_start = true;
                continue;
            }
            fields++;
            field_start = true;
            p++;
            continue;
        }
        field_start = false;
        p++;
    }
    if (!at_eof)
        return -1;
    *pos = p;
    return fields;
}

/* Field counts of up to MAX_RECORDS records (blank and comment lines skipped). */
static int sample_counts(int *counts, const char *data, size_t len, char d, char q, bool spaced,
                         bool at_eof, char comment, bool *wide_gap)
{
    size_t pos = 0;
    int n = 0;
    while (pos < len && n < MAX_RECORDS) {
        size_t ls = pos;
        while (ls < len && (data[ls] == '\r' || (spaced && blank(data[ls]))))
            ls++;
        if (ls < len && data[ls] == '\n') {
            pos = ls + 1;
            continue;
        }
        if (ls < len && comment && data[ls] == comment && ls == pos) {
            const char *nl = memchr(data + ls, '\n', len - ls);
            if (!nl)
                break;
            pos = (size_t)(nl - data) + 1;
            continue;
        }
        if (ls >= len)
            break;
        int f = count_record(data, len, &pos, d, q, spaced, at_eof, wide_gap);
        if (f < 0)
            break;
        counts[n++] = f;
    }
    return n;
}

int pond_csv_sniff(pond_csv_dialect *out, const char *data, size_t len, bool at_eof, char quote,
                   bool quote_given, char comment, const char *name)
{
    static const char CANDIDATES[] = {',', '\t', ';', '|'};
    static const char *const SHOWN[] = {"comma", "tab", "semicolon", "pipe"};
    int counts[MAX_RECORDS];
    const char q = quote ? quote : '"';
    if (!name)
        name = "csv";
    memset(out, 0, sizeof *out);
    out->delimiter = ',';
    out->quote = q;
    int best = -1, best_matches = 0, consistent[4], n_consistent = 0, records = 0;
    for (int c = 0; c < 4; c++) {
        bool unused = false;
        int n = sample_counts(counts, data, len, CANDIDATES[c], q, false, at_eof, comment, &unused);
        records = n;
        if (n == 0 || counts[0] < 2)
            continue;
        int matches = 0;
        for (int i = 0; i < n; i++)
            matches += counts[i] == counts[0];
        if (matches == n)
            consistent[n_consistent++] = c;
        if (matches > best_matches) {
            best_matches = matches;
            best = c;
        }
    }
    if (n_consistent > 1) {
        char names[128] = "";
        for (int i = 0; i < n_consistent; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     i == 0                  ? ""
                     : i == n_consistent - 1 ? " and "
                                             : ", ",
                     SHOWN[consistent[i]]);
        return pond_error_set(POND_EINVALID, POND_DOM_UTIL,
                              "%s: cannot tell the delimiter: %s each split every sampled line "
                              "evenly (give --delimiter)",
                              name, names);
    }
    if (n_consistent == 1) {
        best = consistent[0];
    } else {
        /* no clean candidate: space-aligned columns, if every line splits alike on blanks */
        bool wide = false;
        int n = sample_counts(counts, data, len, ' ', q, true, at_eof, comment, &wide);
        bool ok = n > 0 && counts[0] >= 2 && wide;
        for (int i = 0; ok && i < n; i++)
            ok = counts[i] == counts[0];
        if (ok) {
            out->delimiter = ' ';
            out->space_aligned = true;
            out->fields = counts[0];
            out->records = n;
            best = -2;
        }
    }
    if (best >= 0) {
        out->delimiter = CANDIDATES[best];
        bool unused = false;
        int n =
            sample_counts(counts, data, len, out->delimiter, q, false, at_eof, comment, &unused);
        out->fields = n ? counts[0] : 1;
        out->records = n;
    } else if (best == -1) {
        out->fields = 1;
        out->records = records;
    }
    /* single-quoted headers ('a'<TAB>'b', as some statistics packages write) */
    if (!quote_given && out->records > 0) {
        size_t p = 0;
        while (p < len && (data[p] == '\n' || data[p] == '\r' || (comment && data[p] == comment))) {
            if (data[p] == comment) {
                const char *nl = memchr(data + p, '\n', len - p);
                p = nl ? (size_t)(nl - data) : len;
            }
            p++;
        }
        const char *nl = p < len ? memchr(data + p, '\n', len - p) : NULL;
        size_t e = nl ? (size_t)(nl - data) : len;
        if (e > p && data[e - 1] == '\r')
            e--;
        bool all = e > p;
        size_t f = p;
        while (all && f < e) {
            while (out->space_aligned && f < e && blank(data[f]))
                f++;
            size_t g = f;
            while (g < e && !(out->space_aligned ? blank(data[g]) : data[g] == out->delimiter))
                g++;
            all = g - f >= 2 && data[f] == '\'' && data[g - 1] == '\'' &&
                  !memchr(data + f, '"', g - f);
            f = g + 1;
        }
        if (all)
            out->quote = '\'';
    }
    return 0;
}
