// Linked into the helper and the daemon. In sanitizer builds, LeakSanitizer
// stops the world with clone and ptrace at exit, which a process under our
// seccomp filters (and, for the helper, non-dumpable) cannot allow, so leak
// detection is off for these two programs. Leaks are still looked for by the
// unit tests and the fuzzers, which run the same code without those stages,
// and the daemon's memory is checked flat over 2,100 grants.
extern "C" __attribute__((visibility("default"))) const char* __asan_default_options() {
    return "detect_leaks=0";
}
