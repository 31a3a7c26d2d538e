/* pond: the umbrella header. */
#ifndef POND_H
#define POND_H

#include "common.h"
#include "errors.h"
#include "alloc.h"
#include "buf.h"
#include "hash.h"

#endif
