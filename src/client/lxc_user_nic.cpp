// userbridge-lxc-user-nic: a drop-in for LXC's setuid lxc-user-nic, put at
// its path (a bind mount, or dpkg-divert). Unprivileged: it opens the
// container's network namespace as the caller, which is what the kernel
// lets the caller open (its ptrace check on /proc/PID/ns/net), and asks
// userbridged for the veth pair, sending only that fd; the daemon checks
// that the namespace is the caller's on the fd (daemon/netns.h) and decides
// by the ACL, as for a tap.
//
// LXC's command line (LXC 5.0, src/lxc/network.c):
//   lxc-user-nic create LXCPATH NAME PID veth BRIDGE [NICNAME]
//   lxc-user-nic delete LXCPATH NAME /proc/PID/ns/net veth BRIDGE NICNAME
// and what LXC parses of create's output, the only line on stdout and
// stderr (LXC reads both from one pipe):
//   NICNAME:IFINDEX-IN-CONTAINER:HOST-NAME:HOST-IFINDEX
// lxc-user-nic deletes only Open vSwitch ports; a bridge port goes with the
// container's namespace, and so does ours: delete has nothing to do.
//
// /etc/lxc/lxc-usernet is not read (userbridge-lxc-user-nic(8)): with
// --convert-usernet [FILE] this prints the ACL lines that say the same, for
// the administrator to review and install.
#include <fcntl.h>
#include <net/if.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/names.h"
#include "base/number.h"
#include "client/daemon_client.h"
#include "client/unprivileged.h"

#ifndef UB_SOCKET_PATH
#error "UB_SOCKET_PATH must be set at build time"
#endif

namespace {

using namespace ub;

int usage(const char* me) {
    std::fprintf(stderr,
                 "Usage: %s create {lxcpath} {name} {pid} {type} {bridge} {nicname}\n"
                 "Usage: %s delete {lxcpath} {name} {/proc/<pid>/ns/net} {type} {bridge} {nicname}\n"
                 "Usage: %s --convert-usernet [/etc/lxc/lxc-usernet]\n"
                 "{nicname} is the name to use inside the container\n",
                 me, me, me);
    return 1;
}

int fail(const std::string& msg) {
    std::fprintf(stderr, "lxc-user-nic (userbridge): %s\n", msg.c_str());
    return 1;
}

// lxc-usernet(5)'s "user|@group type bridge count" lines as ACL rules
// (userbridge-acl(5)). Pure. What cannot be said the same way is said in a
// comment line: other types than veth, bad lines.
std::string convert_usernet(std::istream& in) {
    std::ostringstream out;
    out << "# converted from lxc-usernet; max-taps counts taps and veth pairs alike,\n"
           "# per bridge, from live interfaces; the first rule that matches decides\n";
    std::string line;
    for (unsigned n = 1; std::getline(in, line); ++n) {
        std::istringstream words(line);
        std::string who, type, bridge, count;
        if (line.empty() || line[0] == '#') continue;
        if (!(words >> who >> type >> bridge >> count) || !parse_decimal(count, 1 << 20) ||
            !ifname_problem(bridge).empty() || who.empty() || who == "@") {
            out << "# line " << n << " skipped (not 'user|@group veth BRIDGE COUNT'): " << line << "\n";
            continue;
        }
        if (type != "veth") {
            out << "# line " << n << " skipped (type " << type << ": only veth): " << line << "\n";
            continue;
        }
        std::string id = who[0] == '@' ? "group=" + who.substr(1) : "user=" + who;
        out << "allow " << bridge << " " << id << " max-taps=" << *parse_decimal(count, 1 << 20) << "\n";
    }
    return out.str();
}

int convert(const char* path) {
    std::ifstream in(path);
    if (!in) return fail(std::string("cannot read ") + path + ": " + std::strerror(errno));
    std::fputs(convert_usernet(in).c_str(), stdout);
    return 0;
}

int create(const std::vector<std::string>& a) {
    const std::string& name = a[1];
    const std::string& pid = a[2];
    if (a[3] != "veth") return fail("only veth NICs are made (type " + a[3] + ")");
    auto n = parse_decimal(pid, 1 << 30);
    if (!n || *n < 1) return fail("Could not read pid: " + pid);
    protocol::Request req;
    req.bridge = a[4];
    req.netns_peer = a.size() > 5 ? a[5] : "eth0";
    // Checked here too: the request carries 15 bytes of it, and a longer
    // name would be made cut short and printed whole.
    if (std::string why = ifname_problem(req.netns_peer); !why.empty())
        return fail("the interface name '" + printable(req.netns_peer, 64) + "' " + why);
    // The container's name names the pair in records and `userbridge status`.
    req.vm_name = vm_name_problem(name).empty() && name.size() <= 47 ? name : "";
    std::string path = "/proc/" + std::to_string(*n) + "/ns/net";
    UniqueFd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!ns.valid()) return fail("cannot open " + path + ": " + std::strerror(errno));
    Result<client::VethOpened> got = client::grant_veth_via_daemon(UB_SOCKET_PATH, req, ns.get(),
                                                                   std::chrono::seconds(10));
    if (!got.ok()) return fail(got.error().message());
    if (const Refusal* no = std::get_if<Refusal>(&*got)) return fail(no->reason);
    const client::Veth& v = std::get<client::Veth>(*got);
    unsigned host_ifindex = if_nametoindex(v.host.c_str());
    if (host_ifindex == 0) return fail("cannot find " + v.host + ": " + std::strerror(errno));
    std::printf("%s:%u:%s:%u\n", v.peer.c_str(), v.peer_ifindex, v.host.c_str(), host_ifindex);
    return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const char* me = argc > 0 ? argv[0] : "lxc-user-nic";
    if (ub::client::refuse_privilege("lxc-user-nic (userbridge)")) return 1;
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (!args.empty() && args[0] == "--convert-usernet" && args.size() <= 2)
        return convert(args.size() == 2 ? args[1].c_str() : "/etc/lxc/lxc-usernet");
    if (args.size() < 6 || args.size() > 7) return usage(me);
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "create") return create(rest);
    if (args[0] == "delete") return 0;  // the pair goes with the namespace
    return usage(me);
}
