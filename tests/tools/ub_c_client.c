/* ub-c-client: uses libuserbridge's C interface, as a C VMM would.
 *   ub-c-client HELPER BRIDGE [vnet|novnet] [ask]
 * ask: ub_open_tap_flags with UB_OPEN_ASK (polkit may prompt).
 * Prints "ifname=... mac=... guest_mac=... mtu=... vnet_hdr=... fd_is_cloexec=..."
 * or the library's error on stderr (exit 1). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "userbridge/userbridge.h"

int main(int argc, char **argv) {
    struct ub_options opt;
    struct ub_tap tap;
    char err[512];
    if (argc < 3) return 2;
    ub_options_init(&opt);
    opt.helper = argv[1];
    opt.vnet_hdr = !(argc > 3 && strcmp(argv[3], "novnet") == 0);
    unsigned flags = argc > 4 && strcmp(argv[4], "ask") == 0 ? UB_OPEN_ASK : 0;
    if (ub_open_tap_flags(argv[2], &opt, flags, &tap, err, sizeof err) != 0) {
        fprintf(stderr, "ub-c-client: %s\n", err);
        return 1;
    }
    printf("ifname=%s mac=%s guest_mac=%s mtu=%u vnet_hdr=%d fd_is_cloexec=%d\n", tap.ifname,
           tap.mac, tap.guest_mac, tap.mtu, tap.vnet_hdr,
           (fcntl(tap.fd, F_GETFD) & FD_CLOEXEC) ? 1 : 0);
    close(tap.fd);
    return 0;
}
