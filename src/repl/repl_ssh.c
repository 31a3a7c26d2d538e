/* placeholder replaced below */
#include "repl/repl_internal.h"
int repl_ssh_new(repl_remote **out, const char *url, const char *user_host, const char *port,
                 const char *path, const char *exec, const char *ssh_command)
{
    (void)user_host, (void)port, (void)path, (void)exec, (void)ssh_command;
    *out = NULL;
    return pond_error_set(POND_EUNSUPPORTED, R, "'%s': ssh not built yet", url);
}
int pond_repl_serve(int in_fd, int out_fd, const char *dir)
{
    (void)in_fd, (void)out_fd, (void)dir;
    return POND_EUNSUPPORTED;
}
