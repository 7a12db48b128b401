// The grant engine's decisions, as both front ends get them: every case
// here is refused (or asks polkit) before anything is made, so it needs no
// privilege; what is made is tested for real by the integration scripts
// (grant_differential.sh runs both programs through one table).
#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "acl_parse_all.h"
#include "daemon/polkit.h"
#include "grant/grant.h"
#include "net/veth.h"
#include "policy/mac_key.h"

using namespace ub;

namespace {

// `daemon`: the ACL as userbridged reads it; nullptr: as the helper does.
policy::Policy policy_of(const char* text, const policy::DaemonOptions* daemon = &policy::daemon_options()) {
    policy::Policy p;
    auto lines = policy::parse(text, "acl", daemon);
    EXPECT_TRUE(lines.ok()) << lines.error().message();
    auto name = std::make_shared<const std::string>("acl");
    for (const policy::Line& l : *lines) {
        policy::Rule r{l.verb, l.arg == "all" ? "" : l.arg, name, l.lineno, 0, l.who, l.limits, l.auth};
        if (r.who.kind == policy::Subject::User) r.who.id = r.who.name == "alice" ? 4711 : -1;
        p.rules.push_back(r);
    }
    return p;
}

grant::Caller alice(grant::Front front) {
    return {{4711, 4711, {4800}}, audit::peer_pid(99), 4711, front, "alice"};
}

// Nothing is to be made in these cases: an act stage that begins fails.
grant::Outcome ask(const char* acl, const grant::Caller& who, protocol::Request req,
                   const daemon::PolkitAnswer* polkit = nullptr, policy::MacDeriver derive_mac = nullptr,
                   const policy::DaemonOptions* daemon = &policy::daemon_options()) {
    grant::Resources res;
    if (derive_mac)
        res.terms = [&who, &req, derive = std::move(derive_mac)](const policy::Decision& d) {
            return policy::terms_of(d, derive, who.ids.uid, req.vm_name, req.bridge);
        };
    res.polkit = [polkit](policy::Decision& d, Refused& refused, audit::AuditRecord& rec) {
        return daemon::decide_by(polkit, d, refused, rec);
    };
    res.daemon_check = [veth = !req.netns_peer.empty()](const policy::Decision& d) {
        return veth ? net::veth_refusal(d) : std::nullopt;
    };
    res.begin_act = [](const policy::Terms&, net::TapSpec&) -> Result<void> {
        ADD_FAILURE() << "acted on a request that should have been refused";
        return Error::msg("not here");
    };
    return grant::grant(who, req, policy_of(acl, daemon), std::move(res));
}

protocol::Request to(const char* bridge, std::uint16_t queues = 1) { return {true, queues, bridge, "web"}; }

}  // namespace

TEST(Grant, ADenialIsAValueWithItsKindAndOneRecord) {
    for (grant::Front front : {grant::Front::Helper, grant::Front::Daemon}) {
        grant::Outcome o = ask("allow br0\n", alice(front), to("br1"));
        EXPECT_EQ(o.verdict, grant::Verdict::Denied);
        EXPECT_EQ(o.refused, Refused::Acl);
        EXPECT_EQ(o.message, "access to bridge br1 denied: no rule allows it (the default is deny)");
        EXPECT_STREQ(o.record.event, "deny");
        EXPECT_EQ(o.record.detail, "no rule allows it (the default is deny)");
        EXPECT_EQ(o.record.user, "alice");
        EXPECT_EQ(o.record.vm, "web");
        EXPECT_EQ(o.record.via, front == grant::Front::Helper ? "helper" : "daemon");
    }
}

TEST(Grant, TooManyQueuesIsRefusedByTheRule) {
    grant::Outcome o = ask("allow br0 max-queues=2\n", alice(grant::Front::Helper), to("br0", 3));
    EXPECT_EQ(o.verdict, grant::Verdict::Denied);
    EXPECT_EQ(o.refused, Refused::Acl);
    EXPECT_EQ(o.record.rule, "acl:1");
    EXPECT_EQ(o.record.detail, "asked for 3 queues; acl:1 allows at most 2");
}

TEST(Grant, AuthPolkitTheHelperRefusesTheDaemonAsks) {
    const char* acl = "allow br0 auth=polkit\n";
    grant::Outcome helper = ask(acl, alice(grant::Front::Helper), to("br0"));
    EXPECT_EQ(helper.verdict, grant::Verdict::Denied);
    EXPECT_EQ(helper.refused, Refused::NeedsDaemon);
    grant::Outcome daemon = ask(acl, alice(grant::Front::Daemon), to("br0"));
    EXPECT_EQ(daemon.verdict, grant::Verdict::AskPolkit);
    daemon::PolkitAnswer no{1, false, "no: polkit does not authorize it", false};
    grant::Outcome refused = ask(acl, alice(grant::Front::Daemon), to("br0"), &no);
    EXPECT_EQ(refused.refused, Refused::Polkit);
    EXPECT_EQ(refused.record.polkit, no.what);
    EXPECT_EQ(refused.record.detail, "polkit decides (auth=polkit at acl:1): " + no.what);
    daemon::PolkitAnswer prompt{2, false, "no: polkit asks the user to authenticate", true};
    EXPECT_EQ(ask(acl, alice(grant::Front::Daemon), to("br0"), &prompt).refused, Refused::PolkitPrompt);
}

// A routed tap's routes, proxy entries and rules are userbridged's: the
// helper refuses the rule before anything is made, naming the daemon's
// front ends, and records it as a denial by that rule.
TEST(Grant, ModeRoutedTheHelperRefuses) {
    grant::Outcome o = ask("allow wlan0 mode=routed ip=192.168.1.50\n", alice(grant::Front::Helper), to("wlan0"));
    EXPECT_EQ(o.verdict, grant::Verdict::Denied);
    EXPECT_EQ(o.refused, Refused::NeedsDaemon);
    EXPECT_EQ(o.record.rule, "acl:1");
    EXPECT_EQ(o.record.detail, "acl:1 asks for mode= ip=, which only userbridged does: "
                               "use userbridge-client (QEMU's helper=) or userbridge run");
}

// The helper reads no daemon-only value: whatever it says, well formed or
// not, the rule is refused as userbridged's, never granted as if the
// option were absent; a deny beside it still applies.
TEST(Grant, TheHelperRefusesARuleWithADaemonOnlyOptionWhateverItsValue) {
    for (const char* acl : {"allow br0 ip=garbage\n", "allow br0 rate=fast\n", "allow br0 mac=zz servers=maybe\n",
                            "allow br0 mode=bridge\n", "allow br0 auth=nobody\n", "allow br0 lease=forever\n",
                            "allow br0\nallow br0 user=alice rate=1mbit\n"}) {
        grant::Outcome o = ask(acl, alice(grant::Front::Helper), to("br0"), nullptr, nullptr, nullptr);
        EXPECT_EQ(o.verdict, grant::Verdict::Denied) << acl;
        EXPECT_EQ(o.refused, Refused::NeedsDaemon) << acl;
        EXPECT_NE(o.record.detail.find("which only userbridged does: use userbridge-client"), std::string::npos)
            << o.record.detail;
    }
    grant::Outcome o = ask("allow br0 group=4800\nallow br0 user=alice rate=x\n", alice(grant::Front::Helper),
                           to("br0"), nullptr, nullptr, nullptr);
    EXPECT_EQ(o.record.detail, "acl:2 asks for rate=, which only userbridged does: "
                               "use userbridge-client (QEMU's helper=) or userbridge run");
    o = ask("deny br0 user=alice\nallow br0 rate=x\n", alice(grant::Front::Helper), to("br0"), nullptr, nullptr,
            nullptr);
    EXPECT_EQ(o.refused, Refused::Acl);
    EXPECT_EQ(o.record.detail, "denied by acl:1");
}

// Fail-closed: userbridged too refuses a rule whose daemon-only values it
// did not read (a policy loaded without DaemonOptions), rather than grant
// it without its filter.
TEST(Grant, NoProgramGrantsADaemonOnlyRuleWhoseValuesItDidNotRead) {
    grant::Outcome o = ask("allow br0 rate=10mbit\n", alice(grant::Front::Daemon), to("br0"), nullptr, nullptr,
                           nullptr);
    EXPECT_EQ(o.verdict, grant::Verdict::Denied);
    EXPECT_EQ(o.refused, Refused::NeedsDaemon);
}

// max-taps= is userbridged's: the helper refuses a rule with a quota, the
// most specific one, rather than grant unlimited or fall back to a looser
// rule; and a front end that counts no quota (no live_checks hook) fails
// such a rule rather than grant it.
TEST(Grant, AQuotaIsCountedByUserbridgedAlone) {
    grant::Outcome o = ask("allow all\nallow br0 user=alice max-taps=1\n", alice(grant::Front::Helper), to("br0"),
                           nullptr, nullptr, nullptr);
    EXPECT_EQ(o.verdict, grant::Verdict::Denied);
    EXPECT_EQ(o.refused, Refused::NeedsDaemon);
    EXPECT_EQ(o.record.detail, "acl:2 asks for max-taps=, which only userbridged does: "
                               "use userbridge-client (QEMU's helper=) or userbridge run");
    grant::Resources res;
    res.begin_act = [](const policy::Terms&, net::TapSpec&) -> Result<void> { return Ok{}; };
    res.rtnl = [](net::TapSpec&) -> Result<net::Rtnl> {
        ADD_FAILURE() << "made a tap under a quota nobody counts";
        return Error::msg("not here");
    };
    o = grant::grant(alice(grant::Front::Daemon), to("br0"), policy_of("allow br0 max-taps=2\n"), std::move(res));
    EXPECT_EQ(o.verdict, grant::Verdict::Failed);
    EXPECT_EQ(o.message, "this program counts no quotas");
}

TEST(Grant, AVethPairJoinsABridgeOnly) {
    for (const char* acl : {"allow wlan0 mode=routed ip=192.168.1.50\n", "allow wlan0 mode=macvtap\n"}) {
        protocol::Request veth = to("wlan0");
        veth.netns_peer = "eth0";
        grant::Outcome o = ask(acl, alice(grant::Front::Daemon), veth);
        EXPECT_EQ(o.verdict, grant::Verdict::Denied) << acl;
        EXPECT_EQ(o.refused, Refused::Acl) << acl;
        EXPECT_NE(o.record.detail.find(": a veth pair joins a bridge only"), std::string::npos) << o.record.detail;
    }
}

TEST(Grant, ADerivedMacWithoutTheKeyFailsBeforeActing) {
    const Result<policy::MacKey> no_key = Error::msg("no key");
    grant::Outcome o = ask("allow br0 mac-prefix=52:54:00\n", alice(grant::Front::Daemon), to("br0"), nullptr,
                           policy::deriver_for(no_key));
    EXPECT_EQ(o.verdict, grant::Verdict::Failed);
    EXPECT_STREQ(o.record.event, "error");
    EXPECT_EQ(o.message, "mac-prefix= at acl:1: no key");
    // A front end that sets no terms (the helper's) pins no guest MAC, and
    // so grants no rule that sets one.
    for (const char* acl : {"allow br0 mac-prefix=52:54:00\n", "allow br0 mac=52:54:00:12:34:56\n"}) {
        o = ask(acl, alice(grant::Front::Daemon), to("br0"));
        EXPECT_EQ(o.verdict, grant::Verdict::Failed);
        EXPECT_EQ(o.message, "this program sets no guest MAC");
    }
}

TEST(Grant, ARefusalsKindIsTheHelpersExitStatus) {
    for (Refused kind : {Refused::Acl, Refused::Quota, Refused::NeedsDaemon, Refused::Polkit, Refused::PolkitPrompt})
        EXPECT_EQ(refused_by_exit_status(exit_status(kind)), kind);
    EXPECT_FALSE(refused_by_exit_status(0));
    EXPECT_FALSE(refused_by_exit_status(1));
    EXPECT_FALSE(refused_by_exit_status(2));
    EXPECT_FALSE(refused_by_exit_status(16));
}

// Leases and veth pairs are userbridged's: an engine without its checks
// (grant::Resources::daemon_check) refuses them rather than make a tap.
TEST(Grant, WithoutTheDaemonsChecksNoLeaseOrVethIsMade) {
    protocol::Request lease = to("br0");
    lease.kind = protocol::Kind::Lease;
    protocol::Request veth = to("br0");
    veth.netns_peer = "eth0";
    for (const protocol::Request& req : {lease, veth}) {
        grant::Resources res;
        res.begin_act = [](const policy::Terms&, net::TapSpec&) -> Result<void> {
            ADD_FAILURE() << "acted on a request that should have been refused";
            return Error::msg("not here");
        };
        grant::Outcome o = grant::grant(alice(grant::Front::Daemon), req, policy_of("allow br0 lease=1h\n"),
                                        std::move(res));
        EXPECT_EQ(o.verdict, grant::Verdict::Denied);
        EXPECT_EQ(o.refused, Refused::NeedsDaemon);
        EXPECT_EQ(o.record.detail, "only userbridged makes leases and veth pairs");
    }
}
