/* pond serve: the web UI, served from the files embedded in the binary (no file system, no
 * network: the page works offline). */
#include "serve/serve.h"
#include "serve/serve_assets.h"

#include <string.h>

int serve_ui(serve_req *r, const char *url)
{
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        url = "/ui/index.html";
    for (const serve_asset *a = serve_assets; a->url; a++) {
        if (strcmp(a->url, url) != 0)
            continue;
        serve_set_type(r, a->type);
        return serve_body_write(a->data, a->size, r) < 0 ? serve_fail(r) : 0;
    }
    return POND_ENOTFOUND;
}
