/* pond: common definitions shared by every public header. */
#ifndef POND_COMMON_H
#define POND_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#if defined(POND_BUILDING) || defined(POND_STATIC)
#define POND_API __attribute__((visibility("default")))
#else
#define POND_API __attribute__((visibility("default")))
#endif

#define POND_VERSION_MAJOR 0
#define POND_VERSION_MINOR 1
#define POND_VERSION_PATCH 0

/** The library version as "MAJOR.MINOR.PATCH"; static storage. */
POND_API const char *pond_version(void);

#endif
