// userbridged's checks against every live tap, and what it does about one
// its holder tampered with: the quota and guest-MAC counts
// a grant makes with its tap labelled (check_live_taps), and the tampered
// taps its link monitor removes (tampered_tap). userbridge-helper links
// none of this: it refuses every rule with max-taps= or mac= (policy/acl.h,
// kDaemonOnly), and leaves tampered taps to the daemon.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mac.h"
#include "base/refusal.h"
#include "base/result.h"
#include "net/bridge_port.h"
#include "net/rtnl.h"
#include "protocol/tap_label.h"

namespace ub::net {

// A live tap, veth end or macvtap, as the live-tap checks count it.
struct LiveLink {
    std::string name;
    std::string kind;   // "tun", "veth" or "macvtap"
    int master = 0;     // its bridge; a macvtap's lower device (IFLA_LINK)
    std::string alias;  // its label, if any (protocol/tap_label.h)
};

// userbridged's index of the host's live taps, veth ends and macvtaps, by
// ifindex, kept by its link monitor's events (RTM_NEWLINK, RTM_DELLINK)
// so that a grant counts without dumping every link. Rebuilt from a dump
// when events were lost (ENOBUFS) or no monitor could be opened.
class LiveLinks {
public:
    // The three kinds dumped (RTM_GETLINK filtered by kind), replacing all.
    Result<void> rebuild(Rtnl& rtnl);
    // Link events, in the order the monitor read them.
    void apply(const std::vector<LinkInfo>& events);
    const std::map<int, LiveLink>& links() const { return links_; }
    // True until the first rebuild, and again once events were lost.
    bool stale() const { return stale_; }
    void mark_stale() { stale_ = true; }

private:
    void put(const LinkInfo& l);
    std::map<int, LiveLink> links_;
    bool stale_ = true;
};

// What the live-tap checks count against (policy/quota.h).
struct LiveRules {
    int max_taps = -1;             // live taps `owner`'s account may hold on the bridge; -1: no limit
    std::optional<Mac> guest_mac;  // pinned: no other live tap's label may carry it
    uid_t owner = 0;
    // Whose quota a uid counts against (a subordinate uid's owner,
    // daemon/subids.h); null: its own.
    std::function<uid_t(uid_t)> account;
    // The live links, up to date (the daemon's index, its monitor's
    // queued events applied first); `rtnl` is the grant's socket, for a
    // rebuild.
    std::function<Result<const LiveLinks*>(Rtnl& rtnl)> live;
};

// The engine's live-tap checks begin (grant::Resources::live_checks),
// before anything is made: spec.check_live is set, with a quota or a
// guest MAC. The owner and guest MAC counted are spec's. Nothing is
// locked: userbridged's one thread makes its grants one at a time.
void begin_live_checks(TapSpec& spec, LiveRules rules);

// The quota and guest-MAC checks against every live tap, veth end and
// macvtap (a macvtap's lower device stands for its bridge), with ours,
// `mine`, made and labelled already. Pure.
std::optional<Refusal> check_live_taps(const std::map<int, LiveLink>& links, const LiveRules& rules,
                                       const LinkInfo& bridge, int mine);

// A link as a dump of the host's taps shows it.
struct LinkLabel {
    int ifindex;
    std::string_view name;
    std::string_view alias;
};

// No two granted taps are pinned to one guest MAC: nothing unless a link
// other than `mine` carries `mac` in its label, else a refusal naming that
// link. Only a holder of CAP_NET_ADMIN sets labels, so no caller can fake one.
std::optional<Refusal> check_mac_unused(const std::vector<LinkLabel>& links, const Mac& mac, int mine);

// A labelled tap its fd holder changed (protocol::tampered), and what we
// did about it.
struct Revoked {
    std::string tap;
    int ifindex = 0;
    protocol::TapLabel label;
    std::string what;   // what the holder changed, in words
    std::string error;  // why it could not be removed; empty: it is gone
};

// What its holder changed, when `link` is a tap with our label that they
// changed (protocol::tampered); nullopt for any other link. Pure.
std::optional<Revoked> tampered_tap(const LinkInfo& link);
// Removes the tap (RTM_DELLINK), or says in r.error why not. Off the bridge
// and gone, it can neither take other stations' traffic nor hold a quota.
// True when this call removed it; false when it failed or the tap was gone
// already (another event of the same change, or another process, was first).
bool remove_tampered(Rtnl& rtnl, Revoked& r);
// The detail of its revoke record: "removed: WHAT", or
// "not removed (WHY): WHAT".
std::string revoke_detail(const Revoked& r);

}  // namespace ub::net
