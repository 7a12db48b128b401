// userbridge-helper: a drop-in for qemu-bridge-helper.
//
// main() and run() are the list of stages; each stage's contract is in the
// header of the module that implements it:
//   sanitize   privilege/process.h  fds 0-2, environment, umask, signals
//   parse      helper/args.h        argv, before anything else is touched
//   confine    privilege/process.h  close inherited fds; --fd checked
//   drop       privilege/process.h  caller's ids, CAP_NET_ADMIN only
//   decide     policy/loader.h      the ACL, read as the caller; its limits
//                                   (a derived MAC: policy/mac_key.h)
//   sandbox    privilege/seccomp.h  syscall allow-list
//   act        net/bridge_port.h    find the bridge; make, label, count, pin, attach
//   hand over  handover/handover.h  SCM_RIGHTS, then audit and exit 0
// The process runs with CAP_NET_ADMIN only from "drop" on, as the caller's
// uid, so an ACL include the caller cannot read is one they are not granted.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "handover/handover.h"
#include "helper/args.h"
#include "audit/audit.h"
#include "base/fault.h"
#include "net/bridge_port.h"
#include "policy/accounts.h"
#include "policy/loader.h"
#include "policy/mac_key.h"
#include "privilege/process.h"
#include "privilege/release.h"
#include "privilege/seccomp.h"
#include "protocol/tap_label.h"
#include "seccomp_filters.h"  // generated at build time by tools/seccomp_gen.cpp

#ifndef UB_ACL_PATH
#error "UB_ACL_PATH must be set at build time"
#endif
#ifndef UB_MAC_KEY_PATH
#error "UB_MAC_KEY_PATH must be set at build time"
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

// Who the caller is to the policy: the ids and groups the kernel gave us,
// the same ones it checks the ACL files' permissions against.
Result<policy::Requester> requester() {
    std::vector<gid_t> groups = UB_TRY(policy::process_groups());
    return policy::requester_of({getuid(), getgid(), std::move(groups)});
}

// Opened while still root when setuid, as /dev/net/tun is: only root may
// read the MAC key. A helper with file capabilities runs as the caller and
// could not; it does not try.
Result<UniqueFd> open_mac_key(privilege::Mode mode) {
    if (mode == privilege::Mode::FileCaps) return policy::key_unreadable_with_file_caps(UB_MAC_KEY_PATH);
    return policy::open_mac_key(UB_MAC_KEY_PATH);
}

// Read, checked and parsed once privilege is dropped; the fd closes here.
Result<policy::MacKey> read_mac_key(Result<UniqueFd> file) {
    if (!file.ok()) return file.error();
    return policy::read_mac_key(*file, UB_MAC_KEY_PATH);
}

Result<policy::Decision> decide(const std::string& bridge, const policy::Requester& who,
                                policy::Policy& held) {
    policy::LoadOptions opt;
    opt.after_open = [](const char*) { fault::at_void("after-acl-open"); };
    opt.only_bridge = bridge;
    held = UB_TRY(policy::load(UB_ACL_PATH, opt));
    return policy::decide(held.rules, bridge, &who);
}

// Everything that still needs files or libraries is done before this: glibc
// reads /etc/localtime for syslog's time stamps once, here.
Result<void> sandbox() {
    tzset();
#ifdef UB_FAULT_INJECTION
    const auto& filter = privilege::generated::kHelperFaultFilter;
#else
    const auto& filter = privilege::generated::kHelperFilter;
#endif
    UB_TRYV(privilege::install_bpf(filter, std::size(filter)));
    return fault::at("after-seccomp");
}

// A tap the quota count found tampered with and removed: where no daemon
// watches, the next grant with a quota is what removes it (SECURITY.md).
// `caller`: our caller's record, for their name when the tap was theirs
// (names are looked up before the sandbox).
void record_revoked(const net::Revoked& r, const audit::AuditRecord& caller) {
    audit::AuditRecord rec =
        audit::begin("helper", r.label.uid == caller.uid ? caller.user : "?", r.label.uid, {}, "");
    rec.event = "revoke";
    rec.tap = r.tap;
    rec.vm = r.label.vm;
    rec.queues = r.label.queues;
    rec.detail = net::revoke_detail(r);
    audit::record(rec);
}

int run(const helper::Args& args) {
    privilege::Caller caller{getuid(), getgid(), privilege::Mode::Root};
    // The parent is whoever exec'd us, which the caller chooses: the record
    // calls it parent_pid, not the caller (the uid is the kernel's).
    audit::AuditRecord rec =
        audit::begin("helper", "?", caller.uid, audit::parent_pid(getppid()), args.bridge);
    auto refuse = [&](const Error& e) {
        rec.detail = e.message();
        audit::record(rec);
        return fail(e);
    };

    // Stage: confine.
    if (auto r = privilege::close_fds_except(args.fd); !r.ok()) return refuse(r.error());
    // Checked before we open anything ourselves: if --fd named a closed fd,
    // our own syslog or netlink socket could otherwise take its number.
    if (auto r = handover::check_socket(args.fd); !r.ok()) return refuse(r.error());
    audit::open("userbridge-helper");

    // Stage: drop.
    Result<privilege::Caller> who = privilege::identify_caller();
    if (!who.ok()) return refuse(who.error());
    caller = *who;
    // Opened while still root when setuid: see net::open_tun(). Creates nothing.
    // One per queue, and one for the quota lock should the ACL set one.
    std::vector<UniqueFd> tuns;
    for (int q = 0; q <= args.queues; ++q) {
        Result<UniqueFd> tun = net::open_tun();
        if (!tun.ok()) return refuse(tun.error());
        tuns.push_back(std::move(*tun));
    }
    Result<UniqueFd> key_file = open_mac_key(caller.mode);
    if (auto r = privilege::drop_privileges(caller); !r.ok()) return refuse(r.error());
    rec.user = audit::user_name(caller.uid);
    rec.vm = args.vm_name;
    rec.queues = args.queues;

    // Stage: decide.
    Result<policy::Requester> requester_ids = requester();
    if (!requester_ids.ok()) return refuse(requester_ids.error());
    policy::Policy policy;
    Result<policy::Decision> decision = decide(args.bridge, *requester_ids, policy);
    if (!decision.ok()) return refuse(decision.error());
    if (decision->deciding) rec.rule = policy::where(*decision->deciding);
    auto deny = [&](const std::string& why) {
        rec.event = "deny";
        rec.detail = why;
        audit::record(rec);
        return fail(Error::msg("access to bridge " + args.bridge + " denied: " + why));
    };
    if (!decision->allowed) return deny(decision->reason);
    Result<policy::MacKey> key = read_mac_key(std::move(key_file));
    if (auto over = policy::check_queues(*decision, args.queues)) return deny(over->reason);
    Result<policy::Terms> terms = policy::terms_of(*decision, key, caller.uid, args.vm_name, args.bridge);
    if (!terms.ok()) return refuse(terms.error());

    net::TapSpec spec;
    spec.lock_tun = std::move(tuns.back());
    tuns.pop_back();
    spec.tuns = std::move(tuns);
    spec.vnet = args.use_vnet ? net::VnetHdr::IfSupported : net::VnetHdr::Off;
    spec.owner = caller.uid;
    spec.max_taps = terms->limits.max_taps;
    // tap<pid>: the kernel's tap%d would scan every interface on the host
    // for the lowest free number (0.16 ms more per grant with 1,000 there).
    net::TapNames names(static_cast<unsigned>(getpid()));
    spec.names = &names;
    protocol::TapLabel label{caller.uid, args.vm_name, std::nullopt, args.queues, std::nullopt};
    // libnftables is loaded only when the tap needs a filter (a pinned MAC,
    // a rate), and before the sandbox.
    std::optional<net::Nft> nft;
    if (terms->has_mac) {
        label.mac = terms->guest_mac;
        rec.guest_mac = policy::format_mac_bytes(terms->guest_mac);
    }
    if (terms->filtered()) {
        Result<net::Nft> opened = net::Nft::open();
        if (!opened.ok()) return refuse(opened.error());
        nft.emplace(std::move(*opened));
        spec.guard = net::guard_for(*terms);
        spec.nft = &*nft;
        // Its socket's last close would make our exit, which QEMU waits
        // for, wait out an RCU grace period: a child takes it (release.h).
        privilege::defer_netfilter_release(privilege::generated::kReleaserFilter,
                                           std::size(privilege::generated::kReleaserFilter));
    }
    spec.label = label;

    // Stage: sandbox. Our rtnetlink socket is the last fd we open ourselves;
    // libnftables opens its netlink sockets later, which the filter allows.
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    if (!rtnl.ok()) return refuse(rtnl.error());
    if (auto r = sandbox(); !r.ok()) return refuse(r.error());

    // Stage: act. The bridge is checked before anything is created.
    Result<net::LinkInfo> bridge = net::find_bridge(*rtnl, args.bridge);
    if (!bridge.ok()) return refuse(bridge.error());
    std::vector<net::Revoked> revoked;
    spec.revoked = &revoked;
    Result<net::Made> made = net::make_bridged_tap(*rtnl, std::move(spec), *bridge, fault::at);
    for (const net::Revoked& r : revoked) record_revoked(r, rec);
    if (!made.ok()) return refuse(made.error());
    if (auto* no = std::get_if<Refusal>(&*made)) return deny(no->reason);
    net::BridgedTap* tap = &std::get<net::BridgedTap>(*made);

    // Stage: hand over.
    if (auto r = fault::at("before-send"); !r.ok()) return refuse(r.error());
    std::vector<int> fds;
    for (const UniqueFd& q : tap->tap.queues) fds.push_back(q.get());
    if (auto r = handover::send_fds(args.fd, fds); !r.ok())
        return refuse(r.error().context(tap->tap.name));
    fault::at_void("after-send");

    rec.event = "grant";
    rec.tap = tap->tap.name;
    rec.mac = net::format_mac(tap->mac);
    rec.detail = decision->reason + ", mode " + privilege::mode_name(caller.mode) +
                 (tap->tap.vnet_hdr ? ", vnet_hdr" : "");
    audit::record(rec);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    fault::init();  // test-only build; nothing in the real helper
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
