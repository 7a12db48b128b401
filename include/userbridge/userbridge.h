/* libuserbridge, C interface: obtain a bridged tap device as an unprivileged
 * process, from userbridged or through a QEMU-compatible bridge helper.
 * See userbridge.hpp. */
#ifndef USERBRIDGE_H
#define USERBRIDGE_H

#include <stddef.h>

#ifndef UB_API
#define UB_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum ub_via { UB_VIA_AUTO = 0, UB_VIA_DAEMON = 1, UB_VIA_HELPER = 2 };

struct ub_options {
    int via;            /* enum ub_via: daemon if its socket is there, else helper */
    const char *socket; /* NULL: the installed userbridged's socket */
    const char *helper; /* NULL: the installed userbridge-helper */
    int vnet_hdr;       /* non-zero: ask for IFF_VNET_HDR */
    int timeout_ms;     /* a helper still running after this is killed */
};

struct ub_tap {
    int fd;              /* owned by the caller; close() removes the tap */
    char ifname[16];
    char mac[18];        /* the tap's own MAC, "fe:..." */
    char guest_mac[18];  /* a MAC for the guest, "52:..." */
    unsigned mtu;
    int vnet_hdr;
};

/* Defaults: auto, installed daemon socket and helper, vnet_hdr on, 10 s. */
UB_API void ub_options_init(struct ub_options *options);

/* 0 and *tap filled on success; -1 on failure, with a one-line message in
 * err (truncated to errlen, always NUL-terminated when errlen > 0). */
UB_API int ub_open_tap(const char *bridge, const struct ub_options *options, struct ub_tap *tap,
                char *err, size_t errlen);

/* Flags of ub_open_tap_flags. UB_OPEN_ASK: where the ACL hands the decision
 * to polkit (auth=polkit), polkit may prompt the user through their
 * desktop's authentication agent (userbridged only; waits up to 30 s). */
#define UB_OPEN_ASK 1u

/* ub_open_tap with flags (0 is ub_open_tap); unknown flags are refused. */
UB_API int ub_open_tap_flags(const char *bridge, const struct ub_options *options, unsigned flags,
                             struct ub_tap *tap, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
