// Rtnl's request under construction, shared by the files that define its
// requests (rtnl.cpp; veth.cpp, which only userbridged links).
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <utility>

#include "net/rtnl.h"

namespace ub::net {

// A request under construction: one RTM_*LINK message in its own buffer.
// Buffers are left unzeroed (libmnl clears each header and attribute it
// puts): an exec'd helper pays a page fault for every page it touches.
struct Rtnl::Request {
    std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh;
    ifinfomsg* ifm;
    std::string what;  // for error messages: "set MTU of ifindex 7"

    Request(uint16_t type, int ifindex, std::string what_, uint16_t flags = 0) : what(std::move(what_)) {
        nlh = mnl_nlmsg_put_header(buf.get());
        nlh->nlmsg_type = type;
        // A dump ends with NLMSG_DONE; an ACK asked for as well could arrive
        // after it and be taken for the answer to our next request. (Both
        // of NLM_F_DUMP's bits: NLM_F_EXCL of a new link is NLM_F_MATCH's.)
        bool dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags | (dump ? 0 : NLM_F_ACK);
        ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = ifindex;
    }
};

}  // namespace ub::net
