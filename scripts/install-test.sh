#!/usr/bin/env bash
# Installs into a temporary prefix and builds a program against the installed library through
# pkg-config, shared and static; prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
pass=0; fail=0
check() { if "$@" >/dev/null 2>&1; then pass=$((pass+1)); else echo "install-test: FAIL: $*"; fail=$((fail+1)); fi; }
check make -s install PREFIX="$prefix"
cat > "$prefix/t.c" <<'C'
#include <pond/pond.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    pond_backend *be;
    pond_fs *fs;
    if (pond_backend_memory_new(&be) < 0 || pond_fs_open(&fs, be, NULL) < 0)
        return 1;
    pond_fs_begin(fs, NULL);
    pond_fs_write_all(fs, NULL, "/x", POND_ENTRY_FILE_DATA, "hi", 2);
    pond_fs_commit(NULL, fs);
    pond_buf b = POND_BUF_INIT;
    int rc = pond_fs_read_all(&b, fs, NULL, "/x") < 0 || b.size != 2 || memcmp(b.ptr, "hi", 2);
    pond_buf_dispose(&b);
    pond_fs_free(fs);
    pond_backend_free(be);
    printf("pond %s\n", pond_version());
    return rc;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check gcc -std=c17 -Wall -Werror "$prefix/t.c" $(pkg-config --cflags --libs pond) -o "$prefix/t_shared"
check env LD_LIBRARY_PATH="$prefix/lib" "$prefix/t_shared"
check gcc -std=c17 -Wall -Werror "$prefix/t.c" $(pkg-config --cflags pond) "$prefix/lib/libpond.a" $(pkg-config --static --libs pond | sed 's/-lpond//') -o "$prefix/t_static"
check "$prefix/t_static"
check "$prefix/bin/pond" --version
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
