#include "client/unprivileged.h"

#include <sys/auxv.h>

#include <cstdio>

namespace ub::client {

bool refuse_privilege(const char* program) {
    if (getauxval(AT_SECURE) == 0) return false;
    std::fprintf(stderr, "%s: runs with privilege its caller lacks (setuid, setgid or file capabilities): "
                         "refused; it needs none, remove them\n", program);
    return true;
}

}  // namespace ub::client
