#ifndef POND_SQL_INTERNAL_H
#define POND_SQL_INTERNAL_H

#include <pond/sql.h>

#include <sqlite3.h>

struct pond_sql {
    sqlite3 *db;
    pond_fs *fs;
    void **tabs; /* the module's live virtual tables (vtab *), for stats */
    size_t n_tabs, cap_tabs;
    size_t cache_limit; /* decoded bytes per table kept for rescans */
};

/* Registers the "pond" virtual-table module on q->db (sql_vtab.c). */
int pond_sql__register_module(pond_sql *q);

#endif
