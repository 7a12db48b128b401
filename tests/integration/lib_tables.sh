# Tables of older releases, for the tests that see userbridged bring one
# up to date (source it after lib.sh). Each replaces the table there.
# old_table: the table as releases before neighbour-discovery filtering made
# it: the first pin after it must add what is missing.
old_table() {
nft delete table bridge userbridge 2>/dev/null || true
nft -f - <<'NFT'
table bridge userbridge {
    set pinned { type iface_index; }
    set allowed { type iface_index . ether_addr; }
    chain prerouting {
        type filter hook prerouting priority -300; policy accept;
        iif @pinned iif . ether saddr != @allowed counter drop
        iif @pinned iif . arp saddr ether != @allowed counter drop
    }
}
NFT
}
# flat_table: the table as the releases before its chains per protocol
# made it, whole (every set; one flat prerouting chain, each rule asking
# its own `iif @set`, and ip_guard), in place of the one there.
flat_table() {
nft delete table bridge userbridge 2>/dev/null || true
nft -f - <<'NFT'
table bridge userbridge {
    set pinned {
        type iface_index
    }
    set allowed {
        type iface_index . ether_addr
    }
    set vlan_types {
        type ether_type
        elements = { 8021q,
                 8021ad,
                 0x9100,
                 0x9200,
                 0x9300 }
    }
    set allowed_lla {
        typeof iif . @th,200,56
    }
    set clients {
        type iface_index
    }
    set ip_guarded {
        type iface_index
    }
    set ip4_allowed {
        typeof iif . ip saddr
        flags interval
    }
    set ip6_allowed {
        typeof iif . ip6 saddr
        flags interval
    }
    set na_allowed {
        typeof iif . @th,64,128
        flags interval
    }
    set ip4_single {
        typeof iif . ip saddr
    }
    set ip6_single {
        typeof iif . ip6 saddr
    }
    set na_single {
        typeof iif . @th,64,128
    }
    set ll_guarded {
        type iface_index
    }
    set ip6_p64 {
        typeof iif . ip6 saddr
    }
    set na_p64 {
        typeof iif . @th,64,128
    }
    set limited {
        type iface_index
    }
    map rate_out {
        type iface_index : limit
    }
    map rate_in {
        type iface_index : limit
    }
    chain prerouting {
        type filter hook prerouting priority dstnat; policy accept;
        iif @pinned ether type @vlan_types counter drop
        iif @pinned iif . ether saddr != @allowed counter drop
        iif @pinned iif . arp saddr ether != @allowed counter drop
        iif @pinned icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 length > 32 counter drop
        iif @pinned icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } @th,192,8 { 0x1, 0x2 } iif . @th,200,56 != @allowed_lla counter drop
        iif @pinned icmpv6 type nd-router-solicit ip6 length > 16 counter drop
        iif @pinned icmpv6 type nd-router-solicit @th,64,8 0x1 iif . @th,72,56 != @allowed_lla counter drop
        iif @clients icmpv6 type { nd-router-advert, nd-redirect } counter drop
        iif @clients udp sport { 67, 547 } counter drop
        iif @clients udp dport { 68, 546 } counter drop
        iif @clients udp dport 547 @th,64,8 != { 0x1, 0x3, 0x4, 0x5, 0x6, 0x8, 0x9, 0xb } counter drop
        iif @clients udp dport 67 @th,64,8 != 0x1 counter drop
        iif @clients udp dport { 67, 547 } ip frag-off & 8192 != 0 counter drop
        iif @clients udp dport { 67, 547 } exthdr frag exists counter drop
        iif @clients frag frag-off 0 jump client_first_fragment
        iif @pinned frag frag-off 0 jump client_first_fragment
        iif @pinned exthdr frag exists icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } counter drop
        iif @clients ether type ip jump client_ip4
        iif @clients ip6 version != 6 counter drop
        iif @clients icmp type { redirect, router-advertisement } counter drop
        iif @clients ether type 0x8863 @nh,8,8 != { 0x9, 0x19, 0xa7 } counter drop
        iif @ip_guarded jump ip_guard
        iif @limited limit name iif map @rate_out counter drop
    }
    chain client_first_fragment {
        @nh,48,8 0x2c @nh,320,8 { 0x6, 0x11, 0x32, 0x3a } @nh,32,16 >= 0x10 return
        counter drop
    }
    chain client_ip4 {
        @nh,0,8 & 0xf0 != 0x40 counter drop
        @nh,0,8 & 0xf < 0x5 counter drop
        @nh,48,16 & 0x1fff != 0x0 return
        @th,0,8 >= 0x0 return
        counter drop
    }
    chain ip_guard {
        ether type != { ip, arp, ip6 } counter drop
        ip saddr 0.0.0.0 udp sport 68 udp dport 67 return
        iif . ip saddr != @ip4_single iif . ip saddr != @ip4_allowed counter drop
        arp saddr ip != 0.0.0.0 iif . arp saddr ip != @ip4_single iif . arp saddr ip != @ip4_allowed counter drop
        ip6 saddr != { ::, fe80::/10 } iif . ip6 saddr != @ip6_single iif . ip6 saddr & ffff:ffff:ffff:ffff:: != @ip6_p64 iif . ip6 saddr != @ip6_allowed counter drop
        icmpv6 type nd-neighbor-advert @th,64,16 & 0xffc0 != 0xfe80 iif . @th,64,128 != @na_single iif . @th,64,128 & 0xffffffffffffffff0000000000000000 != @na_p64 iif . @th,64,128 != @na_allowed counter drop
        icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,16 & 0xffc0 != 0xfe80 iif . @th,64,128 != @na_single iif . @th,64,128 & 0xffffffffffffffff0000000000000000 != @na_p64 iif . @th,64,128 != @na_allowed counter drop
        iif @ll_guarded ip6 saddr fe80::/10 iif . ip6 saddr != @ip6_single iif . ip6 saddr & ffff:ffff:ffff:ffff:: != @ip6_p64 iif . ip6 saddr != @ip6_allowed counter drop
        iif @ll_guarded icmpv6 type nd-neighbor-advert @th,64,16 & 0xffc0 == 0xfe80 iif . @th,64,128 != @na_single iif . @th,64,128 & 0xffffffffffffffff0000000000000000 != @na_p64 iif . @th,64,128 != @na_allowed counter drop
        iif @ll_guarded icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,16 & 0xffc0 == 0xfe80 iif . @th,64,128 != @na_single iif . @th,64,128 & 0xffffffffffffffff0000000000000000 != @na_p64 iif . @th,64,128 != @na_allowed counter drop
    }
    chain postrouting {
        type filter hook postrouting priority -300; policy accept;
        oif @limited limit name oif map @rate_in counter drop
    }
}
NFT
}
# previous_ip_guard: the table the release before the single-address sets
# made: ip_guard consulting the interval sets alone.
# The daemon starting next must upgrade it in place.
previous_ip_guard() {
flat_table
nft -f - <<'NFT'
flush chain bridge userbridge ip_guard
delete set bridge userbridge ip6_p64
delete set bridge userbridge na_p64
delete set bridge userbridge ip4_single
delete set bridge userbridge ip6_single
delete set bridge userbridge na_single
add rule bridge userbridge ip_guard ether type != { ip, arp, ip6 } counter drop
add rule bridge userbridge ip_guard ip saddr 0.0.0.0 udp sport 68 udp dport 67 return
add rule bridge userbridge ip_guard iif . ip saddr != @ip4_allowed counter drop
add rule bridge userbridge ip_guard arp saddr ip != 0.0.0.0 iif . arp saddr ip != @ip4_allowed counter drop
add rule bridge userbridge ip_guard ip6 saddr != { ::, fe80::/10 } iif . ip6 saddr != @ip6_allowed counter drop
add rule bridge userbridge ip_guard icmpv6 type nd-neighbor-advert @th,64,10 != 0x3fa iif . @th,64,128 != @na_allowed counter drop
add rule bridge userbridge ip_guard icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,10 != 0x3fa iif . @th,64,128 != @na_allowed counter drop
add rule bridge userbridge ip_guard iif @ll_guarded ip6 saddr fe80::/10 iif . ip6 saddr != @ip6_allowed counter drop
add rule bridge userbridge ip_guard iif @ll_guarded icmpv6 type nd-neighbor-advert @th,64,10 0x3fa iif . @th,64,128 != @na_allowed counter drop
add rule bridge userbridge ip_guard iif @ll_guarded icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,10 0x3fa iif . @th,64,128 != @na_allowed counter drop
NFT
}
# previous_p64_guard: the table the release before the /64 sets made:
# ip_guard consulting the single-address and interval sets.
previous_p64_guard() {
flat_table
nft -f - <<'NFT'
flush chain bridge userbridge ip_guard
delete set bridge userbridge ip6_p64
delete set bridge userbridge na_p64
add rule bridge userbridge ip_guard ether type != { ip, arp, ip6 } counter drop
add rule bridge userbridge ip_guard ip saddr 0.0.0.0 udp sport 68 udp dport 67 return
add rule bridge userbridge ip_guard iif . ip saddr != @ip4_single iif . ip saddr != @ip4_allowed counter drop
add rule bridge userbridge ip_guard arp saddr ip != 0.0.0.0 iif . arp saddr ip != @ip4_single iif . arp saddr ip != @ip4_allowed counter drop
add rule bridge userbridge ip_guard ip6 saddr != { ::, fe80::/10 } iif . ip6 saddr != @ip6_single iif . ip6 saddr != @ip6_allowed counter drop
add rule bridge userbridge ip_guard icmpv6 type nd-neighbor-advert @th,64,10 != 0x3fa iif . @th,64,128 != @na_single iif . @th,64,128 != @na_allowed counter drop
add rule bridge userbridge ip_guard icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,10 != 0x3fa iif . @th,64,128 != @na_single iif . @th,64,128 != @na_allowed counter drop
add rule bridge userbridge ip_guard iif @ll_guarded ip6 saddr fe80::/10 iif . ip6 saddr != @ip6_single iif . ip6 saddr != @ip6_allowed counter drop
add rule bridge userbridge ip_guard iif @ll_guarded icmpv6 type nd-neighbor-advert @th,64,10 0x3fa iif . @th,64,128 != @na_single iif . @th,64,128 != @na_allowed counter drop
add rule bridge userbridge ip_guard iif @ll_guarded icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,10 0x3fa iif . @th,64,128 != @na_single iif . @th,64,128 != @na_allowed counter drop
NFT
}
