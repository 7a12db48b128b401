// rtnetlink through libmnl: look up links and change them, one checked
// request at a time. Every reply is matched on sequence number and port id;
// an NLMSG_ERROR becomes an Error carrying the kernel's errno.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

struct mnl_socket;

namespace ub::net {

using Mac = std::array<std::uint8_t, 6>;
std::string format_mac(const Mac& mac);

struct LinkInfo {
    int ifindex = 0;
    std::string name;
    std::string kind;  // IFLA_INFO_KIND: "bridge", "veth", "tun", ... or empty
    unsigned mtu = 0;
    Mac mac{};
    bool has_mac = false;
    int master = 0;  // ifindex of the master device, 0 if none
    unsigned flags = 0;
};

class Rtnl {
public:
    static Result<Rtnl> open();
    Rtnl(Rtnl&& o) noexcept;
    Rtnl& operator=(Rtnl&&) = delete;
    Rtnl(const Rtnl&) = delete;
    ~Rtnl();

    Result<LinkInfo> get_link(std::string_view name);
    Result<void> set_mtu(int ifindex, unsigned mtu);
    Result<void> set_mac(int ifindex, const Mac& mac);
    Result<void> set_master(int ifindex, int master_ifindex);
    Result<void> set_up(int ifindex);

private:
    explicit Rtnl(mnl_socket* nl);
    struct Request;
    Result<void> transact(Request& req, LinkInfo* reply);

    mnl_socket* nl_;
    unsigned portid_;
    unsigned seq_;
};

}  // namespace ub::net
