#include "protocol/tap_label.h"

#include "base/record_value.h"

namespace ub::protocol {

std::string format_label(const TapLabel& l) {
    std::string s = "userbridge uid=" + std::to_string(l.uid);
    // Bare for every name vm_name_problem() accepts, which is all that
    // parse_label() takes back.
    if (!l.vm.empty()) record::append(s, "vm", l.vm);
    if (l.mac) s += " mac=" + format_mac(*l.mac);
    s += " queues=" + std::to_string(l.queues);
    if (l.port) s += " port=" + format_mac(*l.port);
    if (l.lease) s += " lease=" + std::to_string(*l.lease);
    if (l.lease && l.held) s += " held=conn";
    return s;
}

}  // namespace ub::protocol
