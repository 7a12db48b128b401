// userbridge-helper: a drop-in for qemu-bridge-helper.
//
// main() and run() are the list of stages, one function each; each stage's
// contract (what it should and must not do) is in the header named:
//   stage      function          contract
//   sanitize   sanitize_process()  privilege/process.h  fds 0-2,
//                                environment, umask, signals
//   parse      parse_helper_argv()  protocol/helper_args.h  argv, before anything
//                                else is touched
//   confine    confine()         privilege/process.h  close inherited fds;
//                                handover/handover.h  --fd checked
//   drop       drop()            net/tap.h  tun fds opened (creates nothing);
//                                privilege/process.h  the real (caller's) ids,
//                                CAP_NET_ADMIN permitted only
//   decide     decide_and_act()  policy/loader.h  the ACL, read as the caller;
//                                grant/grant.h  the engine the daemon runs too:
//                                decide (a rule with a daemon-only option,
//                                a quota or a filter: refused),
//                                then (after sandbox) act
//   sandbox    begin_act()       privilege/drop.h  CAP_NET_ADMIN effective;
//                                privilege/seccomp.h  syscall allow-list, as
//                                the engine's act stage begins (installed
//                                by privilege/install_bpf.h)
//   act        (the engine)      net/bridge_port.h  find the bridge; make,
//                                label, attach
//   hand over  hand_over()       handover/handover.h  SCM_RIGHTS (the grant
//                                was recorded as the tap came up); then
//                                run() commits the tap and exits 0;
//                                unsent, the tap is deleted (TapUndo,
//                                net/bridge_port.h) and an error recorded
// The process runs with CAP_NET_ADMIN only from "drop" on, as the caller's
// uid, so an ACL include the caller cannot read is one they are not granted;
// it is effective only from the act stage's first step (privilege/drop.h),
// so that reading the ACL and the name lookups run with none.
#include <linux/capability.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "handover/handover.h"
#include "protocol/helper_args.h"
#include "grant/grant.h"
#include "audit/audit.h"
#include "base/fault.h"
#include "net/bridge_port.h"
#include "accounts/accounts.h"
#include "base/system.h"
#include "policy/loader.h"
#include "privilege/drop.h"
#include "privilege/process.h"
#include "privilege/install_bpf.h"
#include "seccomp_filters.h"  // generated at build time by tools/seccomp_gen.cpp

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

// Stage: confine. Every inherited fd but --fd closed, then --fd checked.
Result<void> confine(int fd) {
    UB_TRYV(privilege::close_fds_except(fd));
    // Checked before we open anything ourselves: if --fd named a closed fd,
    // our own syslog or netlink socket could otherwise take its number.
    UB_TRYV(handover::check_socket(fd));
    audit::open("userbridge-helper");
    return Ok{};
}

// Stage: drop. The tun fds are opened first, while still root when setuid
// (see net::open_tun()); opening creates nothing. One per queue.
Result<privilege::Mode> drop(int queues, grant::Resources& res) {
    privilege::Mode mode = UB_TRY(privilege::privilege_mode());
    for (int q = 0; q < queues; ++q) res.tuns.push_back(UB_TRY(net::open_tun()));
    UB_TRYV(privilege::drop_privileges());
    return mode;
}

// The ACL, read as the caller: an include they cannot read is skipped, so
// the policy holds only what they could read (loader.h).
Result<policy::Policy> load_policy(const std::string& bridge) {
    policy::LoadOptions opt;
    opt.after_open = [](const char*) { fault::at_void("after-acl-open"); };
    opt.only_bridge = bridge;
    opt.user_id = accounts::uid_of_name;
    opt.group_id = accounts::gid_of_name;
    return policy::load(UB_ACL_PATH, opt);
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

// The act stage begins (grant::Resources::begin_act): CAP_NET_ADMIN made
// effective, our rtnetlink socket, then the sandbox.
Result<void> begin_act(std::optional<net::Rtnl>& rtnl) {
    // Before the first socket: netlink checks the capabilities of a
    // socket's opener as well as its sender's (netlink_ns_capable()).
    UB_TRYV(privilege::raise_effective(CAP_NET_ADMIN));
    // Stage: sandbox. Our rtnetlink socket is the last fd we open.
    rtnl.emplace(UB_TRY(net::Rtnl::open()));
    return sandbox();
}

// Stage: decide, then act (grant/grant.h), with the groups the kernel
// checks the ACL files' permissions against.
Result<grant::Outcome> decide_and_act(grant::Caller& caller, const protocol::Request& req,
                                      grant::Resources res) {
    caller.ids.groups = UB_TRY(system::getgroups());
    policy::Policy policy = UB_TRY(load_policy(req.bridge));
    // mac-prefix= is a filter, which the engine refuses the helper: it
    // sets no guest MAC (res.terms stays null) and never reads the MAC key;
    // max-taps= too, which it counts no quota for (res.live_checks null).
    // tap<pid>: the kernel's tap%d would scan every interface on the host
    // for the lowest free number (docs/PERFORMANCE.md).
    net::TapNames names(static_cast<unsigned>(getpid()));
    res.names = &names;
    res.hook = fault::at;
    std::optional<net::Rtnl> rtnl;
    res.begin_act = [&](const policy::Terms&, net::TapSpec&) { return begin_act(rtnl); };
    res.rtnl = [&rtnl](net::TapSpec&) -> Result<net::Rtnl> { return std::move(*rtnl); };
    return grant::grant(caller, req, policy, std::move(res));
}

// The engine refused: a refusal's kind is its exit status
// (userbridge-helper(8)).
int refused(const grant::Outcome& no) {
    audit::record(no.record);
    bool denied = no.verdict == grant::Verdict::Denied;
    return fail(Error::msg(no.message), denied ? exit_status(no.refused) : kExitFailure);
}

// Stage: hand over, the tap's queues to --fd.
Result<void> hand_over(int fd, const net::Tap& tap) {
    UB_TRYV(fault::at("before-send"));
    std::vector<int> fds;
    for (const UniqueFd& q : tap.queues) fds.push_back(q.get());
    if (auto r = handover::send_fds(fd, fds); !r.ok()) return r.error().context(tap.name);
    fault::at_void("after-send");
    return Ok{};
}

// The stages after parse, in order. Until the engine decides, and after it
// granted, a failure is recorded in `rec`: what was asked, and why not.
int run(const protocol::HelperArgs& args) {
    audit::open("userbridge-helper", false);  // a failed confine() is recorded too
    // The parent is whoever exec'd us, which the caller chooses: the record
    // calls it parent_pid, not the caller (the uid is the kernel's).
    grant::Caller caller{{getuid(), getgid(), {}}, audit::parent_pid(getppid()), getuid(), grant::Front::Helper};
    const protocol::Request& req = args.tap;
    audit::AuditRecord rec = grant::record_for(caller, req);
    auto refuse = [&rec](const Error& e) {
        rec.detail = e.message();
        audit::record(rec);
        return fail(e);
    };
    if (auto r = confine(args.fd); !r.ok()) return refuse(r.error());
    grant::Resources res;
    Result<privilege::Mode> mode = drop(req.queues, res);
    if (!mode.ok()) return refuse(mode.error());
    caller.user = rec.user = audit::user_name(caller.ids.uid);
    // Our caller may SIGKILL us at any moment (kill(2) goes by the real
    // uid, which a setuid helper keeps) and, as the owner of a multiqueue
    // tap, join a queue of it: the grant is recorded while the tap is
    // still down, carrying nothing. A failure after that, the hand-over's
    // too, is recorded again, as an error for the same tap.
    res.record_before_up = [m = *mode](const audit::AuditRecord& grant) {
        audit::AuditRecord with_mode = grant;
        with_mode.mode = privilege::mode_name(m);
        audit::record(with_mode);
    };
    Result<grant::Outcome> granted = decide_and_act(caller, req, std::move(res));
    if (!granted.ok()) return refuse(granted.error());
    if (granted->verdict != grant::Verdict::Granted) return refused(*granted);
    rec = granted->record;
    rec.event = "error";  // if the fds do not get out
    // Not handed over: the tap is deleted now, before the record and the
    // message, which the caller can stall (a full stderr pipe) while a
    // queue it joined keeps the tap alive.
    if (auto r = hand_over(args.fd, granted->tap->tap); !r.ok()) {
        granted->tap.reset();
        return refuse(r.error());
    }
    granted->tap->undo.commit();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    fault::init();  // test-only build; nothing in the real helper
    if (auto r = privilege::sanitize_process(); !r.ok()) return fail(r.error());
    Result<protocol::HelperArgs> args = protocol::parse_helper_argv(argc, argv);
    if (!args.ok()) {
        fail(args.error(), kExitUsage);
        std::fputs("Try 'userbridge-helper --help'.\n", stderr);
        return kExitUsage;
    }
    // Exit 1 if what was asked for could not be written.
    if (args->action == protocol::HelperAction::Help)
        return std::fputs(protocol::helper_usage().c_str(), stdout) < 0 || std::fflush(stdout) != 0;
    if (args->action == protocol::HelperAction::Version)
        return std::puts("userbridge-helper " UB_VERSION) < 0 || std::fflush(stdout) != 0;
    return run(*args);
}
