// libuserbridge: obtain bridged tap devices as an unprivileged process.
//
// open_tap() asks userbridged over its socket when the daemon is there and
// takes the connection (Via::Auto), and otherwise runs a QEMU-compatible
// bridge helper (userbridge-helper by default; Debian's qemu-bridge-helper
// works too) exactly as QEMU does. Either way it returns the tap it is
// handed, after asking the kernel that the fds are that tap's queues (and,
// from a helper, that the tap is on the requested bridge). Errors are
// values: nothing here throws.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#ifndef UB_API
#define UB_API __attribute__((visibility("default")))
#endif

namespace userbridge {

// How to obtain the tap: from userbridged when its socket is there (Auto),
// or only from the daemon, or only by running the helper.
enum class Via { Auto, Daemon, Helper };

struct Options {
    Via via = Via::Auto;
    std::string socket;                       // empty: the installed daemon's socket
    std::string helper;                       // empty: the installed userbridge-helper
    bool vnet_hdr = true;                     // ask for IFF_VNET_HDR (--use-vnet)
    std::string vm_name;                      // for audit records and ACL-derived MACs
    std::chrono::milliseconds timeout{10000};  // a helper still running is killed
};

// One tap, owning its fd: closing it (destruction) removes the interface.
class UB_API Tap {
public:
    Tap(int fd, std::string ifname, std::string mac, std::string guest_mac, unsigned mtu,
        bool vnet_hdr) noexcept;
    Tap(Tap&& other) noexcept;
    Tap& operator=(Tap&& other) noexcept;
    Tap(const Tap&) = delete;
    Tap& operator=(const Tap&) = delete;
    ~Tap();

    int fd() const noexcept { return fd_; }
    int release() noexcept;                 // the caller now owns the fd
    const std::string& ifname() const noexcept { return ifname_; }
    const std::string& mac() const noexcept { return mac_; }  // the tap's own MAC
    // The MAC the guest must use: the one the ACL pins, if it does (frames
    // from any other are dropped), else the tap's with first byte 0x52.
    const std::string& guest_mac() const noexcept { return guest_mac_; }
    unsigned mtu() const noexcept { return mtu_; }
    bool vnet_hdr() const noexcept { return vnet_hdr_; }

private:
    int fd_;
    std::string ifname_;
    std::string mac_;
    std::string guest_mac_;
    unsigned mtu_;
    bool vnet_hdr_;
};

struct OpenResult {
    std::optional<Tap> tap;  // set on success
    std::string error;       // one line, with the helper's own words; set on failure
    int error_code = 0;      // errno when a system call failed, else 0
    explicit operator bool() const noexcept { return tap.has_value(); }
};

UB_API OpenResult open_tap(const std::string& bridge, const Options& options = {}) noexcept;

// Whether polkit may prompt the user (through their desktop's
// authentication agent) when the ACL hands the decision to it
// (auth=polkit): only userbridged asks polkit, and then waits up to 30 s.
// A separate overload, not a field of Options, so that programs built
// against an older header keep working with this library.
enum class Prompt { Never, Allowed };
UB_API OpenResult open_tap(const std::string& bridge, const Options& options, Prompt prompt) noexcept;

// Where the installed userbridge-helper is.
UB_API const char* default_helper() noexcept;

}  // namespace userbridge
