/* The SQLite loadable extension (libpond_sqlite.so): `.load /path/to/libpond_sqlite` in the
 * sqlite3 shell, or sqlite3_load_extension in any client, then
 *   CREATE VIRTUAL TABLE s USING pond('/path/to/pond', '/plant/station1');
 * Everything is pond_sql_register (<pond/sql.h>); this file only hands SQLite's API table to
 * the sql layer, which this library compiles against it (POND_SQLITE_EXT). */
#include <pond/errors.h>
#include <pond/sql.h>

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

__attribute__((visibility("default"))) int sqlite3_pondsqlite_init(sqlite3 *db, char **err,
                                                                   const sqlite3_api_routines *api);

int sqlite3_pondsqlite_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    SQLITE_EXTENSION_INIT2(api);
    if (pond_sql_register(db) < 0) {
        if (err)
            *err = sqlite3_mprintf("pond: %s", pond_error_last()->message);
        return SQLITE_ERROR;
    }
    return SQLITE_OK;
}
