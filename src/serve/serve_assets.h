/* The web UI's files, embedded at build time (cmake/embed.cmake). */
#ifndef POND_SERVE_ASSETS_H
#define POND_SERVE_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *url, *type;
    const unsigned char *data;
    size_t size;
} serve_asset;

extern const serve_asset serve_assets[];
/* 1 when the build could not fetch uPlot (npm unavailable): the UI says so */
extern const int serve_uplot_missing;

#endif
