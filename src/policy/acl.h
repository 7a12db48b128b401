// The ACL file format of qemu-bridge-helper, parsed and decided without I/O.
//
//   allow NAME | allow all | deny NAME | deny all | include PATH
//   # comment lines and blank lines
//
// Semantics (QEMU's): every rule of every file is considered; a matching deny
// beats any allow; with no matching allow the answer is deny. Where we differ
// from QEMU on purpose we fail closed (see docs/man/userbridge-acl.5).
//
// Our extension, after the bridge name of an allow or deny rule:
//   user=NAME|UID  group=NAME|GID           whom the rule is for (one of them)
//   max-taps=N          live taps each user may hold on the bridge, counted
//                       by userbridged only (allow only)
//   max-queues=N        queues per tap (allow only)
//   mac=XX:XX:XX:XX:XX:XX  mac-prefix=XX[:XX]...   the guest MAC (allow only)
//   servers=no          with a MAC: the guest may not act as a router or
//                       DHCP server on the segment (allow only)
//   ip=ADDR[/LEN][,...] with a MAC: the only IPv4 and IPv6 source addresses
//                       the guest may send from (allow only)
//   rate=N(kbit|mbit|gbit)  what the guest may send, and receive, each way
//                       (allow only)
//   isolated=yes|no     yes: the taps are isolated bridge ports, which reach
//                       the bridge's other ports but not each other (allow
//                       only)
//   mode=bridge|routed|macvtap
//                       routed: NAME is an uplink that cannot be bridged
//                       (a Wi-Fi station), and each grant is a tap routed
//                       to it for exactly the ip= addresses, which must be
//                       single addresses (userbridged only; no mac=,
//                       mac-prefix=, servers=, rate= or isolated=).
//                       macvtap: NAME is no bridge but a NIC, and each
//                       grant is a new macvtap on it (userbridged only; no
//                       servers=, ip=, rate= or isolated=: mac= and
//                       mac-prefix= give the macvtap its address and pin
//                       the frames it sends to it)
//   lease=DURATION      its users may also lease persistent taps (userbridge
//                       lease) for up to DURATION (N followed by s, m, h or
//                       d); userbridged makes them, the helper never does
//                       (allow only)
//   auth=polkit         the rule grants only if polkit's authority says yes
//                       to the action org.userbridge.use-bridge (allow
//                       only); userbridged asks it, the helper cannot
// A QEMU file has nothing after the name, so it means what it always meant.
//
// Two programs read this grammar, one parser for both. userbridge-helper
// acts on user=, group=, max-queues= and isolated= only, and
// parses the values of those alone. The other options are userbridged's
// (kDaemonOnly): their values are parsed by daemon_options.cpp, which
// parse_each reaches through the DaemonOptions it is given (userbridged,
// the CLI, the tests and the fuzzers give it; the helper does not link
// it). Without it, a daemon-only option is recorded by name on the line
// (Limits::daemon_only), value unread. Fail-closed, in every program:
//  - an allow rule with a daemon-only option is never granted by the
//    helper, as if the option were absent: the helper refuses the rule
//    ("needs userbridged", grant.cpp, needs_daemon), whatever its value,
//    and a malformed value is reported by userbridged, `userbridge check`
//    and the fuzzers, and by the helper only as that refusal;
//  - a deny rule takes no option but user= and group=: any other, known
//    to both programs by name, is a parse error everywhere, so a deny is
//    never read without its subject;
//  - an unknown option name is a parse error in every program.
// Among matching allows the most specific decides (user before group before
// anyone, then a named bridge before "all", then reading order), and only
// its limits apply. Any matching deny still wins.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "base/mac.h"
#include "base/refusal.h"
#include "base/result.h"

namespace ub::policy {

enum class Verb { Allow, Deny, Include };

// Who has the last word on an allow rule: the ACL alone, or polkit too.
enum class Auth { Acl, Polkit };

// Whom a rule is for. A name is resolved to an id by the loader (through the
// user and group databases); until then, or if it does not resolve, id is -1
// and the rule matches nobody.
struct Subject {
    enum Kind { Anyone, User, Group } kind = Anyone;
    std::string name;  // as written: a name or a decimal id
    long long id = -1;
};

// An IPv4 or IPv6 prefix of ip= (parsed and printed by ip_prefix.h).
struct IpPrefix {
    bool v6 = false;
    std::array<std::uint8_t, 16> addr{};  // network byte order; IPv4 in the first 4
    int len = 0;                          // prefix length: 32 or 128 for one address

    int bits() const { return v6 ? 128 : 32; }
    bool operator==(const IpPrefix&) const = default;
};

struct MacPolicy {
    enum Mode { None, Fixed, Prefix } mode = None;
    Mac bytes{};  // the MAC, or the prefix in its first `prefix_len` bytes
    int prefix_len = 0;
};

// What a grant makes of the rule's NAME (mode=): one enum, one table of
// names (daemon_options.cpp, kModes, mode_name), one place to extend.
enum class Mode {
    Bridge,   // a tap on the bridge NAME (QEMU's way; the default)
    Routed,   // a tap routed to the uplink NAME for the ip= addresses (net/routed.h)
    Macvtap,  // a macvtap on the NIC NAME (net/macvtap.h)
};

inline constexpr int kUnlimited = -1;
inline constexpr int kDefaultMaxQueues = 8;
inline constexpr int kMaxTapsCeiling = 65535;

struct Limits {
    int max_taps = kUnlimited;  // live taps the user may hold on the bridge (daemon-only)
    int max_queues = kDefaultMaxQueues;
    MacPolicy mac;
    bool servers = true;  // false: router advertisements, redirects, DHCP replies dropped
    std::vector<IpPrefix> ips;  // non-empty: the only source addresses (ip=)
    std::uint64_t rate_bits = 0;  // bits per second each way (rate=); 0: no limit
    bool isolated = false;  // isolated=yes: isolated bridge ports (net/bridge_port.h)
    Mode mode = Mode::Bridge;  // mode=
    std::uint32_t lease_max = 0;  // lease=: the longest lease, in seconds; 0: no leases
    // The daemon-only options (kDaemonOnly) the rule sets, in the order
    // written: "mac= ip=". Non-empty: only userbridged grants the rule,
    // and only with their values read (a DaemonOptions given).
    std::string daemon_only;
    bool values_read = false;
};

// One meaningful line of one file, as written.
struct Line {
    Verb verb;
    std::string arg;  // bridge name, "all", or include path (unresolved)
    int lineno;
    Subject who{};
    Limits limits{};
    Auth auth = Auth::Acl;
};

// Parse one file's text, handing each line to `each` as it is parsed.
// `origin` names the file in errors, which read "origin:line: message".
// Pure: no I/O, safe on any bytes. Lines are not gathered: the loader keeps
// only the rules it needs, which keeps a large ACL's memory (and so its
// page faults, the main cost of a short-lived helper) down.
// With `problems`, a bad line is recorded there and parsing goes on, so that
// `userbridge check` can point at every problem at once.
// With `daemon` (daemon_options.h), the values of daemon-only options are
// parsed too; without, they are recorded unread (see the top of this file).
struct DaemonOptions;
Result<void> parse_each(std::string_view text, std::string_view origin,
                        const std::function<void(Line&&)>& each,
                        std::vector<std::string>* problems = nullptr,
                        const DaemonOptions* daemon = nullptr);

// The options whose values only daemon_options.cpp parses.
inline constexpr std::string_view kDaemonOnly[] = {"max-taps", "mac", "mac-prefix", "servers", "ip",
                                                   "rate", "mode", "lease", "auth"};

// How parse_each reaches the parsers of kDaemonOnly's values.
struct DaemonOptions {
    // `value` of the daemon-only option `key` into `out`; the error says why not.
    Result<void> (*parse)(std::string_view key, std::string_view value, Line& out);
    // A parsed line's daemon-only options between them: "" when they agree.
    std::string (*check)(const Line& line);
};

// An allow or deny rule, with where it came from.
struct Rule {
    Verb verb;           // Allow or Deny
    std::string bridge;  // empty: "all"
    // Shared by every rule of a file: one allocation per file, not per rule.
    std::shared_ptr<const std::string> file;
    int lineno;
    int file_index = 0;  // into Policy::files, when loaded from disk
    Subject who{};
    Limits limits{};
    Auth auth = Auth::Acl;
};

// Who asks, as the kernel knows them: their uid, primary gid and the
// supplementary groups their process runs with, so the policy sees the
// groups file permissions see. The one identity the policy decides on.
struct Credentials {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
    // When uid is a subordinate uid (userbridged's daemon/subids.h), the
    // account it belongs to: a user= rule naming that account is for it
    // too, so that `deny user=` holds for the account's containers.
    std::optional<uid_t> owner = std::nullopt;
    // The groups the group database lists the account in (userbridged's;
    // the owner's for a subordinate uid). A user with a subordinate gid
    // range can drop the groups of their process in a user namespace of
    // their own, and so escape a deny naming one, or the stricter allow a
    // group is given: group= counts these too, for every rule.
    std::vector<gid_t> account_groups = {};
    bool in_group(gid_t g) const;  // primary, supplementary or the account's
};

// Which of a policy's files count for a caller, by index into
// Policy::files: the kernel's answer when asked with the caller's
// filesystem identity (loader.h, readable_now). userbridged asks with the
// process's groups and, when they differ, with the account's groups
// (Credentials::account_groups) added: a deny counts in a file either set
// reads, an allow only in one both read, so that dropping a group neither
// hides a deny nor reveals an allow (a file that group may not read).
struct Readable {
    std::vector<bool> allow;
    std::vector<bool> deny;
    static Readable same(const std::vector<bool>& both) { return {both, both}; }
    bool counts(const Rule& r) const { return (r.verb == Verb::Deny ? deny : allow)[static_cast<std::size_t>(r.file_index)]; }
};

struct Decision {
    bool allowed;
    // The rule that decided: the first matching deny when denied by a rule,
    // the most specific matching allow when allowed; none for the default deny.
    const Rule* deciding;
    std::string reason;  // one line, for users and audit logs
    // The deciding allow says auth=polkit: not allowed (yet), and `reason`
    // says so in words that name the daemon path, which is what the helper,
    // which speaks no D-Bus, refuses with. userbridged asks polkit and, on
    // its yes, goes on with polkit_granted(*this) (daemon_options.h).
    bool ask_polkit = false;
    // The deciding allow's limits; defaults when denied.
    Limits limits() const { return allowed && deciding ? deciding->limits : Limits{}; }
};

// Whether a rule for `subject` is for `who`: decide()'s test, which builds
// no strings (explain.h, applies, says why in words).
bool is_for(const Subject& subject, const Credentials* who);

// Decide whether `bridge` may be used. The bridge name must already be valid.
// Without `who`, rules for a user or group match nobody. With `readable`,
// a rule counts only if its file does for its verb (the daemon's view of
// what the caller may read).
Decision decide(const std::vector<Rule>& rules, std::string_view bridge,
                const Credentials* who = nullptr, const Readable* readable = nullptr);

// Whether only userbridged may grant under `limits`: they set a daemon-only
// option (Limits::daemon_only). The helper refuses such a rule, with
// daemon_refusal, rather than hand out a tap without what it asks for.
inline bool needs_daemon(const Limits& limits) { return !limits.daemon_only.empty(); }
// "FILE:LINE asks for rate=, which only userbridged does: use ...".
std::string daemon_refusal(const Rule& rule);

// What an allow decision gives one request: its limits, and the guest MAC
// when the rule sets one (terms_of, daemon_options.h). Check the queues
// first (check_queues).
struct Terms {
    Limits limits;
    bool has_mac = false;
    Mac guest_mac{};
    bool no_servers = false;  // only with has_mac
};
// A refusal when the request asks for more queues than the deciding rule
// allows.
std::optional<Refusal> check_queues(const Decision& d, int queues);


// "file:line".
std::string where(const Rule& rule);

}  // namespace ub::policy
