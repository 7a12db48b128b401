// ub-bench: grant latency of QEMU-protocol bridge helpers, measured the way
// QEMU uses them (socketpair, fork, exec, recvmsg, waitpid).
//
//   ub-bench grants HELPER BRIDGE COUNT CONCURRENCY
//       COUNT grants split over CONCURRENCY threads. Prints one line per
//       grant: "latency_ns maxrss_kb" (maxrss of the helper process), then
//       "wall_ns TOTAL". Each tap is closed right after it is received,
//       outside the timed span; with one thread, the next grant starts once
//       the kernel has removed it (see wait_gone), unless a sixth argument
//       "back-to-back" asks for throughput.
//   ub-bench daemon SOCKET BRIDGE COUNT CONCURRENCY
//       the same through userbridged, as libuserbridge does it (no exec)
//   ub-bench floor PROGRAM COUNT
//       fork+exec+wait of PROGRAM (a setuid no-op): the cost any setuid
//       helper pays before doing anything.
//   ub-bench kernel BRIDGE COUNT
//       as root: the kernel's share alone, the steps userbridged takes for
//       a grant (open /dev/net/tun, create, MTU, MAC, attach, up, with its
//       tap names) and nothing else: no policy, no IPC, no exec. Prints
//       "latency_ns 0" per tap.
//   ub-bench decide ACLFILE BRIDGE ROUNDS
//       parse + decide an ACL file already in memory, ROUNDS times; prints
//       ns per parse+decide and ns per decide alone.
//   ub-bench machine
//       what every short-lived process pays on this machine, for reading
//       the floor: ns per `cpuid` (x86-64 only; glibc runs dozens of them
//       before main, and a VM may trap each to its hypervisor) and ns per
//       first write to an anonymous page. Prints "cpuid_ns N", "fault_ns N".
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/daemon_client.h"
#include "handover/receive.h"
#include "net/bridge_port.h"
#include "policy/acl.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Sample {
    long long ns;
    long maxrss_kb;
    bool ok;
    std::string tap;  // its name, to wait for its teardown
};

// Waits, untimed, until a closed tap is gone. Its teardown holds the RTNL
// lock for 15 to 25 ms, so a grant started meanwhile waits for it: back to
// back, one client measured the previous tap's teardown in a quarter of its
// grants (a second mode at 14 to 22 ms). The teardown goes on after the
// name is released: measured with the daemon, 16 of 60 grants were slow
// when started as the name went, 21 of 60 after 10 ms more, none after 30.
void wait_gone(const std::string& ifname) {
    if (ifname.empty()) return;
    for (int i = 0; i < 5000 && if_nametoindex(ifname.c_str()) != 0; ++i) usleep(200);
    usleep(30'000);
}

std::string tap_name(int fd) {
    ifreq ifr{};
    if (ioctl(fd, TUNGETIFF, &ifr) != 0) return {};
    return std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
}

const char* g_socket = nullptr;  // set: grants go to the daemon
bool g_back_to_back = false;      // one client: do not wait for teardowns

Sample one_daemon_grant(const std::string& bridge) {
    auto t0 = Clock::now();
    ub::client::OpenRequest req;
    req.socket = g_socket;
    req.tap = {true, 1, bridge, ""};
    auto t = ub::client::open_tap_via_daemon(req);
    auto t1 = Clock::now();
    const ub::client::TapHandle* tap = t.ok() ? std::get_if<ub::client::TapHandle>(&*t) : nullptr;
    if (!t.ok()) std::fprintf(stderr, "ub-bench: %s\n", t.error().message().c_str());
    else if (!tap) std::fprintf(stderr, "ub-bench: %s\n", std::get<ub::Refusal>(*t).reason.c_str());
    return {std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), 0, tap != nullptr,
            tap ? tap->ifname : std::string()};
}

Sample one_grant(const char* helper, const std::string& bridge) {
    if (g_socket) return one_daemon_grant(bridge);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return {0, 0, false, {}};
    std::string br = "--br=" + bridge;
    auto t0 = Clock::now();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(sv[1], 3);
        const char* argv[] = {helper, "--use-vnet", "--fd=3", br.c_str(), nullptr};
        execv(helper, const_cast<char* const*>(argv));
        _exit(127);
    }
    close(sv[1]);
    auto fds = ub::handover::recv_fds(sv[0], 1);
    int st = 0;
    rusage ru{};
    wait4(pid, &st, 0, &ru);
    auto t1 = Clock::now();
    close(sv[0]);
    bool ok = fds.ok() && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    std::string tap = fds.ok() && !fds->empty() ? tap_name(fds->front().get()) : std::string();
    // fds go out of scope here: the tap is torn down outside the timed span.
    return {std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), ru.ru_maxrss, ok,
            tap};
}

int cmd_grants(const char* helper, const std::string& bridge, int count, int conc) {
    std::vector<Sample> all;
    std::mutex mu;
    std::atomic<int> next{0};
    auto w0 = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < conc; ++t) {
        threads.emplace_back([&] {
            while (next.fetch_add(1) < count) {
                Sample s = one_grant(helper, bridge);
                if (conc == 1 && !g_back_to_back) wait_gone(s.tap);
                std::lock_guard<std::mutex> g(mu);
                all.push_back(s);
            }
        });
    }
    for (auto& t : threads) t.join();
    auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - w0).count();
    int failed = 0;
    for (const Sample& s : all) {
        if (!s.ok) ++failed;
        std::printf("%lld %ld\n", s.ns, s.maxrss_kb);
    }
    std::printf("wall_ns %lld\n", static_cast<long long>(wall));
    if (failed) std::fprintf(stderr, "ub-bench: %d of %d grants failed\n", failed, count);
    return failed ? 1 : 0;
}

int cmd_floor(const char* program, int count) {
    for (int i = 0; i < count; ++i) {
        auto t0 = Clock::now();
        pid_t pid = fork();
        if (pid == 0) {
            execl(program, program, nullptr);
            _exit(127);
        }
        int st = 0;
        rusage ru{};
        wait4(pid, &st, 0, &ru);
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        std::printf("%lld %ld\n", static_cast<long long>(ns), ru.ru_maxrss);
    }
    return 0;
}

int cmd_kernel(const std::string& bridge, int count) {
    auto rtnl = ub::net::Rtnl::open();
    if (!rtnl.ok()) return 1;
    ub::net::TapNames names;
    for (int i = 0; i < count; ++i) {
        std::string name;
        {
            auto t0 = Clock::now();
            auto br = ub::net::find_bridge(*rtnl, bridge);
            auto tun = ub::net::open_tun();
            if (!br.ok() || !tun.ok()) return 1;
            ub::net::TapSpec spec;
            spec.tuns.push_back(std::move(*tun));
            spec.vnet = ub::net::VnetHdr::IfSupported;
            spec.names = &names;
            auto tap = ub::net::make_bridged_tap(std::move(*rtnl), std::move(spec), *br);
            auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
            if (!tap.ok()) {
                std::fprintf(stderr, "ub-bench: %s\n", tap.error().message().c_str());
                return 1;
            }
            std::printf("%lld 0\n", static_cast<long long>(ns));
            auto& made = std::get<ub::net::BridgedTap>(*tap);  // no quota, no pinned MAC: no refusal
            name = made.tap.name;
            *rtnl = made.undo.commit();  // closed, not deleted, as the helper's tap is
        }  // the tap closes here
        wait_gone(name);
    }
    return 0;
}

int cmd_decide(const char* file, const std::string& bridge, int rounds) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto t0 = Clock::now();
    std::vector<ub::policy::Rule> rules;
    auto name = std::make_shared<const std::string>(file);
    for (int i = 0; i < rounds; ++i) {
        rules.clear();
        auto r = ub::policy::parse_each(text, file, [&](ub::policy::Line&& l) {
            rules.push_back({l.verb, l.arg == "all" ? "" : std::move(l.arg), name, l.lineno});
        });
        if (!r.ok() || !ub::policy::decide(rules, bridge).allowed) return 1;
    }
    auto t1 = Clock::now();
    for (int i = 0; i < rounds; ++i)
        if (!ub::policy::decide(rules, bridge).allowed) return 1;
    auto t2 = Clock::now();
    auto per = [&](auto a, auto b) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count() / rounds;
    };
    std::printf("parse_decide_ns %lld\ndecide_ns %lld\n", static_cast<long long>(per(t0, t1)),
                static_cast<long long>(per(t1, t2)));
    return 0;
}

// The median of `rounds` timings of `batch` runs of `op`, per run, in ns.
template <typename Op>
long long median_ns(int rounds, int batch, Op op) {
    std::vector<long long> per;
    for (int r = 0; r < rounds; ++r) {
        auto t0 = Clock::now();
        if (!op()) return -1;
        per.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count() /
                      batch);
    }
    std::sort(per.begin(), per.end());
    return per[per.size() / 2];
}

int cmd_machine() {
#if defined(__x86_64__)
    constexpr int kCpuids = 500;
    long long cpuid = median_ns(9, kCpuids, [] {
        unsigned a, b, c, d;
        for (int i = 0; i < kCpuids; ++i) __cpuid(0, a, b, c, d);
        return true;
    });
    std::printf("cpuid_ns %lld\n", cpuid);
#endif
    // 4 KiB pages (no transparent huge page may serve the lot in one fault).
    constexpr int kPages = 512;
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t len = kPages * page;
    long long fault = median_ns(9, kPages, [&] {
        void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return false;
        madvise(m, len, MADV_NOHUGEPAGE);
        for (std::size_t off = 0; off < len; off += page) static_cast<volatile char*>(m)[off] = 1;
        munmap(m, len);
        return true;
    });
    if (fault < 0) return 1;
    std::printf("fault_ns %lld\n", fault);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 6 && a[5] == "back-to-back") {
        g_back_to_back = true;
        a.pop_back();
    }
    if (a.size() == 5 && a[0] == "grants")
        return cmd_grants(argv[2], a[2], std::atoi(argv[4]), std::atoi(argv[5]));
    if (a.size() == 5 && a[0] == "daemon") {
        g_socket = argv[2];
        return cmd_grants(argv[2], a[2], std::atoi(argv[4]), std::atoi(argv[5]));
    }
    if (a.size() == 3 && a[0] == "kernel") return cmd_kernel(a[1], std::atoi(argv[3]));
    if (a.size() == 3 && a[0] == "floor") return cmd_floor(argv[2], std::atoi(argv[3]));
    if (a.size() == 1 && a[0] == "machine") return cmd_machine();
    if (a.size() == 4 && a[0] == "decide") return cmd_decide(argv[2], a[2], std::atoi(argv[4]));
    std::fprintf(stderr, "usage: see the comment at the top of bench/ub_bench.cpp\n");
    return 2;
}
