// Linked only into the test builds, userbridge-helper-faulty and
// userbridged-faulty. See fault.h.
#include "base/fault.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

namespace ub::fault {

namespace {
std::string g_action;
std::string g_point;
bool g_failed = false;  // fail-once: it has
}  // namespace

void init() {
    const char* spec = std::getenv("UB_FAULT");
    if (!spec) return;
    std::string s(spec);
    std::size_t at_sign = s.find('@');
    if (at_sign == std::string::npos) return;
    g_action = s.substr(0, at_sign);
    g_point = s.substr(at_sign + 1);
}

Result<void> at(const char* point) {
    if (g_point != point) return Ok{};
    if (g_action == "fail" || (g_action == "fail-once" && !std::exchange(g_failed, true)))
        return Error::msg(std::string("injected failure at ") + point);
    if (g_action == "kill") raise(SIGKILL);
    if (g_action == "pause") sleep(2);
    if (g_action == "syscall") {
        int fd = ::open("/etc/hostname", O_RDONLY);
        if (fd >= 0) return Error::msg("seccomp let open() through");
        return Error::sys("open() under seccomp");
    }
    if (g_action == "exec") {
        char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
        char* const envp[] = {nullptr};
        execve("/bin/true", argv, envp);
        return Error::sys("execve() under seccomp");
    }
    return Ok{};
}

void at_void(const char* point) { (void)at(point); }



}  // namespace ub::fault
