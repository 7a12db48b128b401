// The public API over ub::client: C++ and C. Exceptions stop here.
#include <unistd.h>

#include <cstring>
#include <exception>
#include <utility>

#include "client/helper_client.h"
#include "client/open.h"
#include "userbridge/userbridge.h"
#include "userbridge/userbridge.hpp"

#ifndef UB_DEFAULT_HELPER
#error "UB_DEFAULT_HELPER must be set at build time"
#endif
#ifndef UB_SOCKET_PATH
#error "UB_SOCKET_PATH must be set at build time"
#endif

namespace userbridge {

Tap::Tap(int fd, std::string ifname, std::string mac, std::string guest_mac, unsigned mtu,
         bool vnet_hdr) noexcept
    : fd_(fd), ifname_(std::move(ifname)), mac_(std::move(mac)), guest_mac_(std::move(guest_mac)),
      mtu_(mtu), vnet_hdr_(vnet_hdr) {}

Tap::Tap(Tap&& o) noexcept
    : fd_(o.release()), ifname_(std::move(o.ifname_)), mac_(std::move(o.mac_)),
      guest_mac_(std::move(o.guest_mac_)), mtu_(o.mtu_), vnet_hdr_(o.vnet_hdr_) {}

Tap& Tap::operator=(Tap&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
        ifname_ = std::move(o.ifname_);
        mac_ = std::move(o.mac_);
        guest_mac_ = std::move(o.guest_mac_);
        mtu_ = o.mtu_;
        vnet_hdr_ = o.vnet_hdr_;
    }
    return *this;
}

Tap::~Tap() {
    if (fd_ >= 0) ::close(fd_);
}

int Tap::release() noexcept { return std::exchange(fd_, -1); }

const char* default_helper() noexcept { return UB_DEFAULT_HELPER; }

OpenResult open_tap(const std::string& bridge, const Options& options) noexcept {
    return open_tap(bridge, options, Prompt::Never);
}

OpenResult open_tap(const std::string& bridge, const Options& options, Prompt prompt) noexcept {
    OpenResult out;
    try {
        ub::client::OpenRequest req;
        req.via = options.via;
        req.helper = options.helper.empty() ? UB_DEFAULT_HELPER : options.helper;
        req.socket = options.socket.empty() ? UB_SOCKET_PATH : options.socket;
        req.tap.bridge = bridge;
        req.tap.vnet_hdr = options.vnet_hdr;
        req.tap.vm_name = options.vm_name;
        req.timeout = options.timeout;
        req.tap.interactive = prompt == Prompt::Allowed;
        ub::Result<ub::client::Opened> r = ub::client::open_tap(req);
        if (!r.ok()) {
            out.error = r.error().message();
            out.error_code = r.error().code();
            return out;
        }
        if (auto* no = std::get_if<ub::Refusal>(&*r)) {
            out.error = no->reason;
            return out;
        }
        ub::client::TapHandle& h = std::get<ub::client::TapHandle>(*r);
        out.tap.emplace(h.fd.release(), h.ifname, ub::format_mac(h.mac), ub::format_mac(h.guest_mac), h.mtu,
                        h.vnet_hdr);
    } catch (const std::exception& e) {
        out.error = std::string("libuserbridge: ") + e.what();
    }
    return out;
}

}  // namespace userbridge

namespace {
void copy_out(char* dst, std::size_t len, const std::string& src) {
    if (!dst || len == 0) return;
    std::size_t n = std::min(len - 1, src.size());
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}
}  // namespace

extern "C" void ub_options_init(struct ub_options* options) {
    if (!options) return;
    options->via = UB_VIA_AUTO;
    options->socket = nullptr;
    options->helper = nullptr;
    options->vnet_hdr = 1;
    options->timeout_ms = 10000;
}

extern "C" int ub_open_tap(const char* bridge, const struct ub_options* options,
                           struct ub_tap* tap, char* err, std::size_t errlen) {
    return ub_open_tap_flags(bridge, options, 0, tap, err, errlen);
}

extern "C" int ub_open_tap_flags(const char* bridge, const struct ub_options* options, unsigned flags,
                                 struct ub_tap* tap, char* err, std::size_t errlen) {
    if (flags & ~UB_OPEN_ASK) {
        copy_out(err, errlen, "ub_open_tap_flags: unknown flags");
        return -1;
    }
    if (!bridge || !tap) {
        copy_out(err, errlen, "ub_open_tap: bridge and tap must not be NULL");
        return -1;
    }
    userbridge::Options o;
    if (options) {
        if (options->helper) o.helper = options->helper;
        if (options->socket) o.socket = options->socket;
        // enum ub_via is userbridge::Via's C face (C cannot name an enum
        // class); it arrives as an int: anything but its two named values
        // is Auto, as ub_options_init() sets it.
        o.via = options->via == UB_VIA_DAEMON   ? userbridge::Via::Daemon
                : options->via == UB_VIA_HELPER ? userbridge::Via::Helper
                                                : userbridge::Via::Auto;
        o.vnet_hdr = options->vnet_hdr != 0;
        if (options->timeout_ms > 0) o.timeout = std::chrono::milliseconds(options->timeout_ms);
    }
    userbridge::OpenResult r = userbridge::open_tap(
        bridge, o, (flags & UB_OPEN_ASK) ? userbridge::Prompt::Allowed : userbridge::Prompt::Never);
    if (!r) {
        copy_out(err, errlen, r.error);
        return -1;
    }
    std::memset(tap, 0, sizeof *tap);
    copy_out(tap->ifname, sizeof tap->ifname, r.tap->ifname());
    copy_out(tap->mac, sizeof tap->mac, r.tap->mac());
    copy_out(tap->guest_mac, sizeof tap->guest_mac, r.tap->guest_mac());
    tap->mtu = r.tap->mtu();
    tap->vnet_hdr = r.tap->vnet_hdr() ? 1 : 0;
    tap->fd = r.tap->release();
    copy_out(err, errlen, "");
    return 0;
}
