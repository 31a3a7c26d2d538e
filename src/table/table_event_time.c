/* A series' event time: which column, which zone, and what a row's value is (the rules are
 * pond_table__ts_kind/pond_table__ts_value in table_arrow.c). The series reader filters a range with
 * these, and pond_event_time hands the same to anything else that needs a row's event time. */
#include "table/table_internal.h"

#include <assert.h>
#include <string.h>

#define D POND_DOM_TABLE

int pond_table__event_time_from(pond_event_time *et, char *column, const char *timezone,
                                const char *path)
{
    memset(et, 0, sizeof *et);
    et->index = -1;
    et->column = column;
    int rc = 0;
    if (timezone && (rc = pond_tz_open(&et->tz, timezone)) < 0) {
        pond_error_prefix("%s: the series' time zone", path);
        pond_table__event_time_dispose(et);
    }
    return rc;
}

int pond_table__event_time_init(pond_event_time *et, pond_fs *fs, const pond_wd *wd,
                                const char *path)
{
    memset(et, 0, sizeof *et);
    et->index = -1;
    pond_series_settings set;
    int rc = pond_series_settings_get(&set, fs, wd, path);
    if (rc < 0)
        return rc;
    rc = pond_table__event_time_from(et, set.timestamp_column, set.timezone, path);
    set.timestamp_column = NULL;
    pond_series_settings_dispose(&set);
    return rc;
}

void pond_table__event_time_dispose(pond_event_time *et)
{
    pond_free(et->column);
    pond_tz_free(et->tz);
    memset(et, 0, sizeof *et);
    et->index = -1;
}

int pond_table__event_time_bind(pond_event_time *et, const struct ArrowSchema *schema)
{
    et->index = -1;
    memset(&et->ts, 0, sizeof et->ts);
    for (int64_t i = 0; et->column && i < schema->n_children; i++) {
        const struct ArrowSchema *c = schema->children[i];
        if (!c->name || strcmp(c->name, et->column))
            continue;
        pond_table__ts_kind(&et->ts, c, et->tz);
        if (et->ts.kind == 0)
            return pond_error_set(POND_EINVALID, D,
                                  "timestamp column '%s' has type '%s', which holds no time",
                                  et->column, c->format);
        et->index = (int)i;
        return 0;
    }
    return 1;
}

int pond_event_time_open(pond_event_time **out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    POND_ASSERT_ARG(out && fs && path);
    *out = NULL;
    pond_event_time *et = pond_calloc(1, sizeof *et);
    if (!et)
        return POND_ENOMEM;
    pond_stat st;
    int rc = pond_fs_stat(&st, fs, wd, path);
    if (rc == 0 && st.type == POND_ENTRY_FILE_SERIES)
        rc = pond_table__event_time_init(et, fs, wd, path);
    else
        et->index = -1;
    if (rc < 0) {
        pond_free(et);
        return rc;
    }
    *out = et;
    return 0;
}

void pond_event_time_free(pond_event_time *et)
{
    if (!et)
        return;
    pond_table__event_time_dispose(et);
    pond_free(et);
}

const char *pond_event_time_column(const pond_event_time *et) { return et ? et->column : NULL; }

int pond_event_time_bind(pond_event_time *et, const struct ArrowSchema *schema)
{
    POND_ASSERT_ARG(et && schema);
    if (!et->column)
        return pond_error_set(POND_ENOTFOUND, D, "the series records no timestamp column");
    int rc = pond_table__event_time_bind(et, schema);
    if (rc == 1)
        return pond_error_set(POND_ENOTFOUND, D, "timestamp column '%s' is not among the columns",
                              et->column);
    return rc;
}

bool pond_event_time_of_row(int64_t *us_out, const pond_event_time *et,
                            const struct ArrowArray *batch, int64_t i)
{
    assert(et->index >= 0 && et->index < batch->n_children);
    const struct ArrowArray *col = batch->children[et->index];
    int64_t j = batch->offset + i;
    if (pond_table__is_null(col, j))
        return false;
    *us_out = pond_table__ts_value(&et->ts, col, j);
    return true;
}

bool pond_series_version_in_range(const pond_stat *v, int64_t from_us, int64_t to_us)
{
    return !v->has_event_time || (v->max_event_time_us >= from_us && v->min_event_time_us < to_us);
}
