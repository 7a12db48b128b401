// Link events as they happen (RTNLGRP_LINK), for the daemon: expiry
// records, dropping a gone tap's filter, removing a tap its holder
// tampered with. The helper makes one tap and watches no links, so this
// is not in its translation units.
#pragma once

#include <utility>
#include <vector>

#include "base/result.h"
#include "net/rtnl.h"

namespace ub::net {

// Non-blocking: read() returns what is queued.
class LinkMonitor {
public:
    static Result<LinkMonitor> open();
    int fd() const;
    // Events queued now; an overrun (ENOBUFS) is reported as an error, and
    // the monitor goes on with what follows.
    Result<std::vector<LinkInfo>> read();

private:
    explicit LinkMonitor(MnlSocket nl) : nl_(std::move(nl)) {}
    MnlSocket nl_;
};

}  // namespace ub::net
