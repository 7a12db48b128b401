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

// What one read() got. `more`: it stopped at its limit with events still
// queued, which the next read() gets.
struct LinkEvents {
    std::vector<LinkInfo> links;
    bool more = false;
};

// Non-blocking: read() returns what is queued.
class LinkMonitor {
public:
    static Result<LinkMonitor> open();
    int fd() const;
    // Events queued now, up to 4,096 datagrams (a tap's holder makes link
    // events at will, faster than one thread may read them: without a
    // limit the daemon could read for as long as the flood lasts); an
    // overrun (ENOBUFS) is reported as an error, and the monitor goes on
    // with what follows.
    Result<LinkEvents> read();

private:
    explicit LinkMonitor(MnlSocket nl) : nl_(std::move(nl)) {}
    MnlSocket nl_;
};

}  // namespace ub::net
