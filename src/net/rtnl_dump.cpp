// Rtnl::list_links (net/rtnl.h), in a unit of its own: only the programs
// that look at every link of a kind (userbridged's live-tap counts and
// link monitor, the CLI's status) link it; the helper looks up one link.
#include "net/rtnl.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cerrno>

namespace ub::net {

namespace {

// A dump is answered in many datagrams; one that links changed under
// meanwhile is flagged NLM_F_DUMP_INTR, which libmnl reports as EINTR
// with the rest of it still queued on the socket. Asked again on a fresh
// socket (nothing queued), it is whole; on a busy host a few tries do.
constexpr int kDumpTries = 10;

}  // namespace

Result<std::vector<LinkInfo>> Rtnl::list_links(const std::string& kind) {
    for (int tries = 1;; ++tries) {
        Result<std::vector<LinkInfo>> links = dump_links(kind);
        if (links.ok() || links.error().code() != EINTR || tries == kDumpTries) return links;
        *this = UB_TRY(Rtnl::open());
    }
}

Result<std::vector<LinkInfo>> Rtnl::dump_links(const std::string& kind) {
    Message m;
    m.start<ifinfomsg>(RTM_GETLINK, NLM_F_DUMP);  // ifi_family zeroed: AF_UNSPEC
    nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, kind.c_str());
    mnl_attr_nest_end(m.nlh, info);
    std::vector<LinkInfo> links;
    UB_TRYV(request(m.nlh, "list " + kind + " interfaces", &links));
    // Kernels that ignore the filter send everything; the filter holds anyway.
    std::erase_if(links, [&](const LinkInfo& l) { return l.kind != kind; });
    return links;
}

}  // namespace ub::net
