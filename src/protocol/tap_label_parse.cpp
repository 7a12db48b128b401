// parse_label (protocol/tap_label.h): a TU of its own, since only the
// programs that read labels (userbridged, the CLI, the clients) link it.
#include "protocol/tap_label.h"

#include "base/names.h"
#include "base/number.h"

namespace ub::protocol {

namespace {
// Year 9999: any expiry a lease= rule can give, and nothing that overflows.
constexpr long long kMaxLeaseEpoch = 253402300799LL;
}  // namespace

std::optional<TapLabel> parse_label(std::string_view alias) {
    constexpr std::string_view kHead = "userbridge ";
    if (alias.substr(0, kHead.size()) != kHead) return std::nullopt;
    alias.remove_prefix(kHead.size());
    TapLabel l;
    bool have_uid = false;
    while (!alias.empty()) {
        std::size_t sp = alias.find(' ');
        std::string_view tok = alias.substr(0, sp);
        alias = sp == std::string_view::npos ? "" : alias.substr(sp + 1);
        std::size_t eq = tok.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view key = tok.substr(0, eq), value = tok.substr(eq + 1);
        if (key == "uid") {
            auto v = parse_decimal(value, kMaxId);
            if (!v) return std::nullopt;
            l.uid = static_cast<uid_t>(*v);
            have_uid = true;
        } else if (key == "vm") {
            if (!vm_name_problem(value).empty()) return std::nullopt;
            l.vm = std::string(value);
        } else if (key == "mac" || key == "port") {
            int len = 0;
            auto mac = parse_mac(value, &len);
            if (!mac.ok() || len != 6) return std::nullopt;
            (key == "mac" ? l.mac : l.port) = *mac;
        } else if (key == "queues") {
            auto v = parse_decimal(value, kMaxQueues);
            if (!v || *v < 1) return std::nullopt;
            l.queues = static_cast<int>(*v);
        } else if (key == "lease") {
            auto v = parse_decimal(value, kMaxLeaseEpoch);
            if (!v) return std::nullopt;
            l.lease = *v;
        } else if (key == "held" && value == "conn") {
            l.held = true;
        } else {
            return std::nullopt;
        }
    }
    if (!have_uid || (l.held && !l.lease)) return std::nullopt;
    return l;
}

}  // namespace ub::protocol
