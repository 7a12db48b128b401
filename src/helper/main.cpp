// userbridge-helper: a drop-in for qemu-bridge-helper.
//
// main() is the list of stages; each stage's contract is in the header of the
// module that implements it. The process runs with CAP_NET_ADMIN only from
// drop_privileges() on, and as the caller's uid; it reads the ACL as the
// caller, so an include the caller cannot read is one they are not granted.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "handover/handover.h"
#include "helper/args.h"
#include "helper/audit.h"
#include "net/bridge_port.h"
#include "policy/loader.h"
#include "privilege/process.h"

#ifndef UB_ACL_PATH
#error "UB_ACL_PATH must be set at build time"
#endif
#ifndef UB_VERSION
#define UB_VERSION "unknown"
#endif

namespace {

using namespace ub;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int fail(const Error& e, int code = kExitFailure) {
    std::fprintf(stderr, "userbridge-helper: %s\n", e.message().c_str());
    return code;
}

// Stage: decide. Loads the ACL as the caller and applies it.
Result<policy::Decision> decide(const std::string& bridge, policy::Policy& held) {
    held = UB_TRY(policy::load(UB_ACL_PATH));
    return policy::decide(held.rules, bridge);
}

int run(const helper::Args& args) {
    privilege::Caller caller{getuid(), getgid(), privilege::Mode::Root};
    helper::AuditRecord rec{"error", caller.uid, getppid(), args.bridge, {}, {}, {}};
    auto refuse = [&](const Error& e) {
        rec.detail = e.message();
        helper::audit(rec);
        return fail(e);
    };

    if (auto r = privilege::close_fds_except(args.fd); !r.ok()) return refuse(r.error());
    // Checked before we open anything ourselves: if --fd named a closed fd,
    // our own syslog or netlink socket could otherwise take its number.
    if (auto r = handover::check_socket(args.fd); !r.ok()) return refuse(r.error());
    helper::audit_open();
    Result<privilege::Caller> who = privilege::identify_caller();
    if (!who.ok()) return refuse(who.error());
    caller = *who;
    // Opened while still root when setuid: see net::open_tun(). Creates nothing.
    Result<UniqueFd> tun = net::open_tun();
    if (!tun.ok()) return refuse(tun.error());
    if (auto r = privilege::drop_privileges(caller); !r.ok()) return refuse(r.error());

    policy::Policy policy;
    Result<policy::Decision> decision = decide(args.bridge, policy);
    if (!decision.ok()) return refuse(decision.error());
    if (!decision->allowed) {
        rec.event = "deny";
        rec.detail = decision->reason;
        helper::audit(rec);
        return fail(Error::msg("access to bridge " + args.bridge + " denied: " + decision->reason));
    }

    // Everything the caller gave us is checked before anything is created.
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    if (!rtnl.ok()) return refuse(rtnl.error());
    Result<net::LinkInfo> bridge = net::find_bridge(*rtnl, args.bridge);
    if (!bridge.ok()) return refuse(bridge.error());

    auto vnet = args.use_vnet ? net::VnetHdr::IfSupported : net::VnetHdr::Off;
    Result<net::BridgedTap> tap = net::make_bridged_tap(*rtnl, std::move(*tun), *bridge, vnet, caller.uid);
    if (!tap.ok()) return refuse(tap.error());
    if (auto r = handover::send_fds(args.fd, {tap->tap.fd.get()}); !r.ok())
        return refuse(r.error().context(tap->tap.name));

    rec.event = "grant";
    rec.tap = tap->tap.name;
    rec.mac = net::format_mac(tap->mac);
    rec.detail = decision->reason + ", mode " + privilege::mode_name(caller.mode) +
                 (tap->tap.vnet_hdr ? ", vnet_hdr" : "");
    helper::audit(rec);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (auto r = privilege::sanitize_process(); !r.ok()) return fail(r.error());
    std::vector<std::string> words;
    // One more than the limit is enough for parse_args to refuse a huge argv.
    for (int i = 1; i < argc && argv[i] && words.size() <= helper::kMaxArgs; ++i)
        words.emplace_back(argv[i]);
    Result<helper::Args> args = helper::parse_args(words);
    if (!args.ok()) {
        fail(args.error(), kExitUsage);
        std::fputs("Try 'userbridge-helper --help'.\n", stderr);
        return kExitUsage;
    }
    if (args->action == helper::Action::Help) {
        std::fputs(helper::usage().c_str(), stdout);
        return 0;
    }
    if (args->action == helper::Action::Version) {
        std::puts("userbridge-helper " UB_VERSION);
        return 0;
    }
    return run(*args);
}
