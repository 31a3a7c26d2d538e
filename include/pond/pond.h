/* pond: the umbrella header. */
#ifndef POND_H
#define POND_H

#include "common.h"
#include "errors.h"
#include "alloc.h"
#include "buf.h"
#include "hash.h"
#include "stream.h"
#include "backend.h"
#include "tinyfs.h"
#include "arrow.h"
#include "parquet.h"
#include "cas.h"
#include "delta.h"
#include "oplog.h"
#include "table.h"
#include "csv.h"
#include "csv_import.h"
#include "timefmt.h"
#include "rows.h"
#include "describe.h"
#include "repl.h"
#include "export.h"

#endif
