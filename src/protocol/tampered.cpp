#include "protocol/tampered.h"

namespace ub::protocol {

std::string tampered(const TapLabel& label, const TapState& now) {
    std::string what;
    auto add = [&](const std::string& s) { what += (what.empty() ? "" : ", ") + s; };
    if (label.port && now.mac != *label.port)
        add("MAC changed from " + format_mac(*label.port) + " to " +
            format_mac(now.mac));
    if (now.persist && !label.lease) add("made persistent");
    if (!now.persist && label.lease) add("persistence removed");
    if (now.owner != static_cast<long long>(label.uid))
        add(now.owner < 0 ? "owner removed" : "owner changed to uid " + std::to_string(now.owner));
    if (now.group >= 0) add("group set to gid " + std::to_string(now.group));
    return what;
}

}  // namespace ub::protocol
