// net/csum_guard.h: tc programs that judge where a frame's checksum goes,
// loaded once and attached to filtered ports.
#include "net/csum_guard.h"

#include <bpf/btf.h>

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <map>
#include <vector>

namespace ub::net {

namespace {

// eBPF instructions, spelled as the kernel's own macros (include/linux/filter.h)
// spell them; uapi has the encoding but not the macros.
constexpr bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
constexpr bpf_insn mov_reg(std::uint8_t dst, std::uint8_t src) { return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
constexpr bpf_insn mov_imm(std::uint8_t dst, std::int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
constexpr bpf_insn add_imm(std::uint8_t dst, std::int32_t imm) { return insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm); }
constexpr bpf_insn call(bpf_func_id f) { return insn(BPF_JMP | BPF_CALL, 0, 0, 0, f); }
constexpr bpf_insn jne_imm(std::uint8_t dst, std::int32_t imm, std::int16_t off) {
    return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm);
}
constexpr bpf_insn jeq_reg(std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return insn(BPF_JMP | BPF_JEQ | BPF_X, dst, src, off, 0);
}
constexpr bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
constexpr bpf_insn alu_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
    return insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn sub_reg(std::uint8_t dst, std::uint8_t src) { return insn(BPF_ALU64 | BPF_SUB | BPF_X, dst, src, 0, 0); }
constexpr bpf_insn load(std::uint8_t size, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return insn(BPF_LDX | BPF_MEM | size, dst, src, off, 0);
}

// The blunt program. Where the kernel's checksum state shows:
// bpf_l4_csum_replace changes the two bytes it is pointed at by
// (to - from), except on a frame that waits for its checksum (CHECKSUM_PARTIAL), where without BPF_F_PSEUDO_HDR it
// changes nothing (inet_proto_csum_replace4). So the program reads the
// EtherType (offset 12, in every frame), asks for a change of 0 to 1 there,
// reads it again: unchanged, the frame waits for its checksum and is
// dropped; changed, the bytes read first are written back and it passes.
// (From 0 to 1 always changes a one's complement sum: it subtracts 1, and
// 0x0000 and 0xffff both become 0xfffe.) Any helper that fails drops.
// This rests on that behaviour of the kernel's, not on an interface: a
// kernel that wrote a CHECKSUM_PARTIAL frame's bytes here would let every
// frame pass, which review6.sh's macvtap case shows (docs/SECURITY.md,
// item 27-1).
constexpr int kAt = 12;
constexpr std::int16_t kFirst = -8, kAgain = -16;  // stack slots
// clang-format off
constexpr bpf_insn kBluntProgram[] = {
    mov_reg(BPF_REG_6, BPF_REG_1),                       // r6 = skb
    // bpf_skb_load_bytes(skb, 12, fp-8, 2)
    mov_reg(BPF_REG_1, BPF_REG_6), mov_imm(BPF_REG_2, kAt), mov_reg(BPF_REG_3, BPF_REG_10),
    add_imm(BPF_REG_3, kFirst), mov_imm(BPF_REG_4, 2), call(BPF_FUNC_skb_load_bytes),
    jne_imm(BPF_REG_0, 0, 27),
    // bpf_l4_csum_replace(skb, 12, 0, 1, 2 bytes)
    mov_reg(BPF_REG_1, BPF_REG_6), mov_imm(BPF_REG_2, kAt), mov_imm(BPF_REG_3, 0), mov_imm(BPF_REG_4, 1),
    mov_imm(BPF_REG_5, 2), call(BPF_FUNC_l4_csum_replace),
    jne_imm(BPF_REG_0, 0, 20),
    // bpf_skb_load_bytes(skb, 12, fp-16, 2)
    mov_reg(BPF_REG_1, BPF_REG_6), mov_imm(BPF_REG_2, kAt), mov_reg(BPF_REG_3, BPF_REG_10),
    add_imm(BPF_REG_3, kAgain), mov_imm(BPF_REG_4, 2), call(BPF_FUNC_skb_load_bytes),
    jne_imm(BPF_REG_0, 0, 13),
    // unchanged: it waits for its checksum
    load(BPF_H, BPF_REG_1, BPF_REG_10, kFirst), load(BPF_H, BPF_REG_2, BPF_REG_10, kAgain),
    jeq_reg(BPF_REG_1, BPF_REG_2, 10),
    // bpf_skb_store_bytes(skb, 12, fp-8, 2, 0): as it was
    mov_reg(BPF_REG_1, BPF_REG_6), mov_imm(BPF_REG_2, kAt), mov_reg(BPF_REG_3, BPF_REG_10),
    add_imm(BPF_REG_3, kFirst), mov_imm(BPF_REG_4, 2), mov_imm(BPF_REG_5, 0), call(BPF_FUNC_skb_store_bytes),
    jne_imm(BPF_REG_0, 0, 2),
    mov_imm(BPF_REG_0, TC_ACT_OK), exit_insn(),
    mov_imm(BPF_REG_0, TC_ACT_SHOT), exit_insn(),
};
// clang-format on
static_assert(std::size(kBluntProgram) == 37, "the jumps' offsets count these instructions");

// The exact program reads the sk_buff itself: ip_summed (a 2-bit field),
// csum_start and mac_header (offsets from skb->head) and csum_offset.
// Their places differ from one kernel build to the next; its BTF says
// where they are. A tc program's context register holds the sk_buff's
// address, which bpf_probe_read_kernel may be given once the loader may
// leak pointers (CAP_PERFMON): the verifier takes it as any other value.
struct SkbFields {
    long summed_byte = 0;
    int summed_shift = 0;
    long csum_start = 0, csum_offset = 0, mac_header = 0;
};

// The bit offset of the member `name` of the struct or union `id`,
// looking into its anonymous members (csum_start is in a struct in a
// union), and its bitfield size (0: not a bitfield); -1 if none.
long member_bits(const btf* b, std::uint32_t id, const char* name, std::uint32_t& bitfield) {
    const btf_type* t = btf__type_by_id(b, id);
    while (t && (btf_is_mod(t) || btf_is_typedef(t))) t = btf__type_by_id(b, t->type);
    if (!t || !btf_is_composite(t)) return -1;
    const btf_member* m = btf_members(t);
    for (std::uint32_t i = 0; i < btf_vlen(t); ++i, ++m) {
        const char* n = btf__name_by_offset(b, m->name_off);
        long at = btf_member_bit_offset(t, i);
        if (n && *n) {
            if (std::strcmp(n, name) != 0) continue;
            bitfield = btf_member_bitfield_size(t, i);
            return at;
        }
        if (long inner = member_bits(b, m->type, name, bitfield); inner >= 0) return at + inner;
    }
    return -1;
}

Result<SkbFields> skb_fields() {
    btf* b = btf__load_vmlinux_btf();
    if (!b) return Error::sys("cannot read the kernel's BTF (/sys/kernel/btf/vmlinux)");
    struct Free {
        btf* b;
        ~Free() { btf__free(b); }
    } free_it{b};
    std::int32_t skb = btf__find_by_name_kind(b, "sk_buff", BTF_KIND_STRUCT);
    if (skb < 0) return Error::msg("the kernel's BTF has no struct sk_buff");
    SkbFields f;
    std::uint32_t size = 0;
    auto u16_at = [&](const char* name, long& byte) -> Result<void> {
        long bits = member_bits(b, static_cast<std::uint32_t>(skb), name, size);
        if (bits < 0 || size != 0 || bits % 8 != 0)
            return Error::msg(std::string("the kernel's struct sk_buff has no ") + name + " where expected");
        byte = bits / 8;
        return Ok{};
    };
    UB_TRYV(u16_at("csum_start", f.csum_start));
    UB_TRYV(u16_at("csum_offset", f.csum_offset));
    UB_TRYV(u16_at("mac_header", f.mac_header));
    long bits = member_bits(b, static_cast<std::uint32_t>(skb), "ip_summed", size);
    if (bits < 0 || size != 2 || bits % 8 + 2 > 8)
        return Error::msg("the kernel's struct sk_buff has no 2-bit ip_summed where expected");
    f.summed_byte = bits / 8;
    // BTF counts a bitfield's bits from the first byte's least significant
    // bit on a little-endian machine, from its most significant on a big one.
    f.summed_shift = std::endian::native == std::endian::little ? static_cast<int>(bits % 8)
                                                                 : static_cast<int>(8 - bits % 8 - 2);
    return f;
}

// Instructions with jumps to labels, resolved by done().
class Assembler {
public:
    void op(bpf_insn i) { code_.push_back(i); }
    void label(int l) { at_[l] = static_cast<int>(code_.size()); }
    void jump(std::uint8_t cond, std::uint8_t reg, std::int32_t imm, int l) {
        fix_.push_back({static_cast<int>(code_.size()), l});
        op(insn(BPF_JMP | cond | BPF_K, reg, 0, 0, imm));
    }
    void jump_reg(std::uint8_t cond, std::uint8_t reg, std::uint8_t src, int l) {
        fix_.push_back({static_cast<int>(code_.size()), l});
        op(insn(BPF_JMP | cond | BPF_X, reg, src, 0, 0));
    }
    std::vector<bpf_insn> done() {
        for (auto [i, l] : fix_) code_[i].off = static_cast<std::int16_t>(at_.at(l) - i - 1);
        return code_;
    }

private:
    std::vector<bpf_insn> code_;
    std::map<int, int> at_;
    std::vector<std::pair<int, int>> fix_;
};

// Linux's CHECKSUM_PARTIAL (include/linux/skbuff.h; not in uapi).
constexpr int kChecksumPartial = 3;

// The UDP ports whose payload a rule reads: servers=no's to 67 and 547
// read the message's first byte (net/mac_pin.cpp, kRelayRules). Keep the
// two in step.
constexpr std::uint16_t kPayloadRead[] = {67, 547};

// The exact program. A frame neither waiting for its checksum nor to be
// segmented passes: the kernel writes nothing into it. Any other passes
// only as TCP, UDP or SCTP right after an IPv4 header (not a fragment: a
// later fragment's "header" is payload) or an IPv6 one, whose headers
// the rules read no further than the ports, and then:
// - to be segmented (GSO: gso_size, which __sk_buff shows), not as UDP to
//   a port in kPayloadRead: the kernel splits UDP (USO, UFO) at offsets
//   of the guest's choosing into datagrams each with a header of its own,
//   so a second one could start with what servers=no drops in a first (a
//   BOOTREPLY to 67, a Relay-Reply to 547); the headers the rules read
//   are the same in every piece. Its csum_start, which the segmenter takes
//   for the transport header and writes into, may not be before it.
// - waiting for its checksum (CHECKSUM_PARTIAL), the two bytes the kernel
//   writes (csum_start + csum_offset, from the Ethernet header, which
//   mac_header marks) past the ports; to a port in kPayloadRead, not past
//   UDP's checksum field. A VM's own checksum field, and a tunnel's inner
//   one (a container's VXLAN leaves it to the veth), so pass.
// Anything it cannot read drops, as do a VLAN tag, an IPv6 extension
// header and ICMP waiting for a checksum: no stack leaves those to offload.
std::vector<bpf_insn> exact_program(const SkbFields& f) {
    enum { kPass, kDrop, kParse, kIp4, kTransport, kReads, kSegment, kWhole, kStarted };
    enum : std::int16_t {
        kSummed = -8, kStart = -16, kOffset = -24, kMac = -32, kType = -40, kNext = -48, kIp = -64, kGso = -72,
        kPort = -80, kRead = -88
    };
    Assembler a;
    // bpf_probe_read_kernel(fp+slot, n, skb + at)
    auto kernel = [&](std::int16_t slot, int n, long at) {
        a.op(mov_reg(BPF_REG_1, BPF_REG_10));
        a.op(add_imm(BPF_REG_1, slot));
        a.op(mov_imm(BPF_REG_2, n));
        a.op(mov_reg(BPF_REG_3, BPF_REG_6));
        a.op(add_imm(BPF_REG_3, static_cast<std::int32_t>(at)));
        a.op(call(BPF_FUNC_probe_read_kernel));
        a.jump(BPF_JNE, BPF_REG_0, 0, kDrop);
    };
    // bpf_skb_load_bytes(skb, at (+ reg), fp+slot, n)
    auto frame = [&](std::int16_t slot, int n, int at, int reg = -1, int plus = 0) {
        a.op(mov_reg(BPF_REG_1, BPF_REG_6));
        if (reg < 0) a.op(mov_imm(BPF_REG_2, at));
        else a.op(mov_reg(BPF_REG_2, static_cast<std::uint8_t>(reg))), a.op(add_imm(BPF_REG_2, plus));
        a.op(mov_reg(BPF_REG_3, BPF_REG_10));
        a.op(add_imm(BPF_REG_3, slot));
        a.op(mov_imm(BPF_REG_4, n));
        a.op(call(BPF_FUNC_skb_load_bytes));
        a.jump(BPF_JNE, BPF_REG_0, 0, kDrop);
    };
    a.op(mov_reg(BPF_REG_6, BPF_REG_1));  // r6 = skb
    // r7 = ip_summed; the stack keeps gso_size
    kernel(kSummed, 1, f.summed_byte);
    a.op(load(BPF_B, BPF_REG_7, BPF_REG_10, kSummed));
    a.op(alu_imm(BPF_RSH, BPF_REG_7, f.summed_shift));
    a.op(alu_imm(BPF_AND, BPF_REG_7, 3));
    a.op(load(BPF_W, BPF_REG_1, BPF_REG_6, offsetof(__sk_buff, gso_size)));
    a.op(insn(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_1, kGso, 0));
    a.jump(BPF_JEQ, BPF_REG_7, kChecksumPartial, kParse);
    a.jump(BPF_JEQ, BPF_REG_1, 0, kPass);
    a.label(kParse);
    frame(kType, 2, 12);
    a.op(load(BPF_H, BPF_REG_1, BPF_REG_10, kType));  // as on the wire: compared with htons()
    a.jump(BPF_JEQ, BPF_REG_1, htons(ETH_P_IP), kIp4);
    a.jump(BPF_JNE, BPF_REG_1, htons(ETH_P_IPV6), kDrop);
    // IPv6: r8 = next header, r9 = where the transport header begins.
    frame(kNext, 1, 14 + 6);
    a.op(load(BPF_B, BPF_REG_8, BPF_REG_10, kNext));
    a.op(mov_imm(BPF_REG_9, 14 + 40));
    a.jump(BPF_JA, 0, 0, kTransport);
    a.label(kIp4);
    frame(kIp, 10, 14);  // version and IHL .. protocol
    a.op(load(BPF_B, BPF_REG_1, BPF_REG_10, kIp));
    a.op(mov_reg(BPF_REG_2, BPF_REG_1));
    a.op(alu_imm(BPF_RSH, BPF_REG_2, 4));
    a.jump(BPF_JNE, BPF_REG_2, 4, kDrop);
    a.op(alu_imm(BPF_AND, BPF_REG_1, 0xf));
    a.jump(BPF_JLT, BPF_REG_1, 5, kDrop);
    a.op(alu_imm(BPF_LSH, BPF_REG_1, 2));
    a.op(mov_reg(BPF_REG_9, BPF_REG_1));
    a.op(add_imm(BPF_REG_9, 14));
    a.op(load(BPF_H, BPF_REG_1, BPF_REG_10, kIp + 6));  // flags and fragment offset
    a.op(alu_imm(BPF_AND, BPF_REG_1, htons(0x3fff)));  // MF or an offset: a fragment
    a.jump(BPF_JNE, BPF_REG_1, 0, kDrop);
    a.op(load(BPF_B, BPF_REG_8, BPF_REG_10, kIp + 9));
    a.label(kTransport);
    // TCP, UDP or SCTP, whose headers the rules read no further than the
    // ports; UDP to a port in kPayloadRead marks kRead.
    a.op(insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, kRead, 0));
    a.jump(BPF_JEQ, BPF_REG_8, IPPROTO_TCP, kSegment);
    a.jump(BPF_JEQ, BPF_REG_8, IPPROTO_SCTP, kSegment);
    a.jump(BPF_JNE, BPF_REG_8, IPPROTO_UDP, kDrop);
    frame(kPort, 2, 0, BPF_REG_9, 2);  // the destination port
    a.op(load(BPF_H, BPF_REG_1, BPF_REG_10, kPort));
    for (std::uint16_t port : kPayloadRead) a.jump(BPF_JEQ, BPF_REG_1, htons(port), kReads);
    a.jump(BPF_JA, 0, 0, kSegment);
    a.label(kReads);
    a.op(insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, kRead, 1));
    // To be segmented: not where a rule reads the payload.
    a.label(kSegment);
    a.op(load(BPF_W, BPF_REG_1, BPF_REG_10, kGso));
    a.jump(BPF_JEQ, BPF_REG_1, 0, kWhole);
    a.op(load(BPF_DW, BPF_REG_1, BPF_REG_10, kRead));
    a.jump(BPF_JNE, BPF_REG_1, 0, kDrop);
    a.label(kWhole);
    a.jump(BPF_JNE, BPF_REG_7, kChecksumPartial, kPass);
    // Waiting for its checksum: r1 = csum_start, r3 = where it is written,
    // both from the Ethernet header.
    kernel(kStart, 2, f.csum_start);
    kernel(kOffset, 2, f.csum_offset);
    kernel(kMac, 2, f.mac_header);
    a.op(load(BPF_H, BPF_REG_1, BPF_REG_10, kStart));
    a.op(load(BPF_H, BPF_REG_2, BPF_REG_10, kMac));
    a.jump_reg(BPF_JLT, BPF_REG_1, BPF_REG_2, kDrop);
    a.op(sub_reg(BPF_REG_1, BPF_REG_2));
    a.op(load(BPF_H, BPF_REG_3, BPF_REG_10, kOffset));
    a.op(insn(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_3, BPF_REG_1, 0, 0));
    // Past the ports...
    a.op(mov_reg(BPF_REG_4, BPF_REG_9));
    a.op(add_imm(BPF_REG_4, 4));
    a.jump_reg(BPF_JLT, BPF_REG_3, BPF_REG_4, kDrop);
    // ...and, to a port in kPayloadRead, not past UDP's checksum field...
    a.op(load(BPF_DW, BPF_REG_2, BPF_REG_10, kRead));
    a.jump(BPF_JEQ, BPF_REG_2, 0, kStarted);
    a.op(add_imm(BPF_REG_4, 2));
    a.jump_reg(BPF_JGT, BPF_REG_3, BPF_REG_4, kDrop);
    // ...and, to be segmented, from the transport header on: the
    // segmenter takes csum_start for it, and writes into it.
    a.label(kStarted);
    a.op(load(BPF_W, BPF_REG_2, BPF_REG_10, kGso));
    a.jump(BPF_JEQ, BPF_REG_2, 0, kPass);
    a.jump_reg(BPF_JLT, BPF_REG_1, BPF_REG_9, kDrop);
    a.label(kPass);
    a.op(mov_imm(BPF_REG_0, TC_ACT_OK));
    a.op(exit_insn());
    a.label(kDrop);
    a.op(mov_imm(BPF_REG_0, TC_ACT_SHOT));
    a.op(exit_insn());
    return a.done();
}

Result<UniqueFd> load_program(const bpf_insn* code, std::size_t count, const char* license, const char* what) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
    attr.insns = reinterpret_cast<std::uintptr_t>(code);
    attr.insn_cnt = static_cast<std::uint32_t>(count);
    attr.license = reinterpret_cast<std::uintptr_t>(license);
    std::strncpy(attr.prog_name, "ub_csum_guard", sizeof attr.prog_name - 1);
    long fd = ::syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0) return Error::sys(std::string("cannot load the ") + what + " (bpf BPF_PROG_LOAD)");
    return UniqueFd(static_cast<int>(fd));
}

constexpr std::uint32_t kPriority = 1, kHandle = 1;
constexpr const char* kName = "userbridge_csum_guard";

}  // namespace

Result<CsumGuard> CsumGuard::load() {
    // bpf_probe_read_kernel is for GPL-compatible programs; the program's
    // text is this file's, LGPL-2.1, whose section 3 lets a copy be
    // licensed under the GPL.
    Result<UniqueFd> exact = [] () -> Result<UniqueFd> {
        SkbFields f = UB_TRY(skb_fields());
        std::vector<bpf_insn> code = exact_program(f);
        return load_program(code.data(), code.size(), "GPL", "exact checksum guard");
    }();
    if (exact.ok()) return CsumGuard(std::move(*exact), Kind::Exact, "");
    Result<UniqueFd> blunt = load_program(kBluntProgram, std::size(kBluntProgram), "LGPL-2.1", "checksum guard");
    if (!blunt.ok()) return blunt.error();
    return CsumGuard(std::move(*blunt), Kind::Blunt, exact.error().message());
}

namespace {

// Every port's guard is one filter on a tc block that all ports of a side
// share (clsact's ingress_block and egress_block), not a filter a port.
// Binding a port to the block that has it is one request; and for every
// block bound to a device that offloads nothing (a tap, a veth) the kernel
// keeps an entry in one list, searched at each new binding
// (flow_indr_dev_setup_offload): with a block a port, each grant searched
// past every pinned port on the host.
std::uint32_t block_of(CsumGuard::Side side) {
    return side == CsumGuard::Side::Ingress ? 0x75620001 : 0x75620002;  // "ub", 1 and 2
}
// The clsact attribute that names the shared block of `side`.
std::uint16_t block_attr(CsumGuard::Side side) {
    return side == CsumGuard::Side::Ingress ? TCA_INGRESS_BLOCK : TCA_EGRESS_BLOCK;
}

// The guard's filter `prog`, on the shared block of `side` (ifindex 0) or
// on the port's own clsact: replacing ours, or, `exclusive`, keeping one
// already there.
Result<void> put_filter(Rtnl& rtnl, int prog, int ifindex, CsumGuard::Side side, bool exclusive) {
    Message f;
    tcmsg* t = f.start<tcmsg>(RTM_NEWTFILTER, NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0));
    t->tcm_family = AF_UNSPEC;
    std::string on;
    if (ifindex == 0) {
        t->tcm_ifindex = static_cast<int>(TCM_IFINDEX_MAGIC_BLOCK);
        t->tcm_block_index = block_of(side);
        on = " on tc block " + std::to_string(block_of(side));
    } else {
        t->tcm_ifindex = ifindex;
        t->tcm_parent = TC_H_MAKE(TC_H_CLSACT, side == CsumGuard::Side::Ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
        on = " on ifindex " + std::to_string(ifindex);
    }
    t->tcm_handle = kHandle;
    t->tcm_info = TC_H_MAKE(kPriority << 16, htons(ETH_P_ALL));
    mnl_attr_put_strz(f.nlh, TCA_KIND, "bpf");
    nlattr* opts = mnl_attr_nest_start(f.nlh, TCA_OPTIONS);
    mnl_attr_put_u32(f.nlh, TCA_BPF_FD, static_cast<std::uint32_t>(prog));
    mnl_attr_put_strz(f.nlh, TCA_BPF_NAME, kName);
    mnl_attr_put_u32(f.nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
    mnl_attr_nest_end(f.nlh, opts);
    Result<void> r = rtnl.request(f.nlh, "attach the checksum guard" + on);
    if (!r.ok() && exclusive && r.error().code() == EEXIST) return Ok{};
    return r;
}

// The shared block `ifindex`'s clsact qdisc is bound to on `side`; 0 for a
// block of its own. Asked on a socket of its own: Rtnl's requests read
// links, and the helper, which links Rtnl, needs no other reply.
Result<std::uint32_t> bound_block(int ifindex, CsumGuard::Side side) {
    MnlSocket nl = UB_TRY(open_netlink(NETLINK_ROUTE, 0, 0, "rtnetlink socket"));
    // The kernel sends the qdisc it found back to its asker only when asked
    // to echo it (tc_get_qdisc: rtnetlink_send's report); an error instead.
    Message q;
    tcmsg* t = q.start<tcmsg>(RTM_GETQDISC, NLM_F_REQUEST | NLM_F_ECHO);
    q.nlh->nlmsg_seq = 1;
    t->tcm_family = AF_UNSPEC;
    t->tcm_ifindex = ifindex;
    t->tcm_parent = TC_H_CLSACT;
    std::string what = "look up the tc qdisc of ifindex " + std::to_string(ifindex);
    if (mnl_socket_sendto(nl.get(), q.nlh, q.nlh->nlmsg_len) < 0) return Error::sys("cannot " + what);
    struct Found {
        std::uint16_t want;
        std::uint32_t block = 0;
    } found{block_attr(side)};
    static constexpr auto each_attr = [](const nlattr* a, void* data) -> int {
        auto* f = static_cast<Found*>(data);
        if (mnl_attr_get_type(a) == f->want && mnl_attr_validate(a, MNL_TYPE_U32) >= 0) f->block = mnl_attr_get_u32(a);
        return MNL_CB_OK;
    };
    auto each_msg = [](const nlmsghdr* nlh, void* data) -> int {
        if (nlh->nlmsg_type == RTM_NEWQDISC && mnl_nlmsg_get_payload_len(nlh) >= sizeof(tcmsg))
            (void)mnl_attr_parse(nlh, sizeof(tcmsg), each_attr, data);
        return MNL_CB_STOP;
    };
    auto buf = std::make_unique_for_overwrite<char[]>(MNL_SOCKET_BUFFER_SIZE);
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.get(), MNL_SOCKET_BUFFER_SIZE);
    if (n < 0 || mnl_cb_run(buf.get(), static_cast<std::size_t>(n), 1, mnl_socket_get_portid(nl.get()), each_msg,
                            &found) < 0)
        return Error::sys("cannot " + what);
    return found.block;
}

}  // namespace

Result<void> CsumGuard::attach(Rtnl& rtnl, int ifindex, Side side) const {
    Message q;
    tcmsg* t = q.start<tcmsg>(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
    t->tcm_family = AF_UNSPEC;
    t->tcm_ifindex = ifindex;
    t->tcm_parent = TC_H_CLSACT;
    t->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
    mnl_attr_put_strz(q.nlh, TCA_KIND, "clsact");
    mnl_attr_put_u32(q.nlh, block_attr(side), block_of(side));
    Result<void> bound = rtnl.request(q.nlh, "bind ifindex " + std::to_string(ifindex) + " to a tc block");
    // The block's first port makes it, and then its filter: a new port
    // carries no frame before its grant ends, and a live one userbridged
    // starting finds unguarded had no guard before either.
    if (bound.ok()) return put_filter(rtnl, prog_.get(), 0, side, true);
    if (bound.error().code() != EEXIST) return bound;
    // A clsact qdisc there already: an older release's or an
    // administrator's, whose own block gets the filter...
    Result<void> own = put_filter(rtnl, prog_.get(), ifindex, side, false);
    if (own.ok() || own.error().code() != EOPNOTSUPP) return own;
    // ...or one bound to a shared block: ours (a port a daemon bound before
    // this one started), or another, whose filters are not the guard.
    std::uint32_t block = UB_TRY(bound_block(ifindex, side));
    if (block != block_of(side))
        return Error::msg("ifindex " + std::to_string(ifindex) + "'s tc qdisc is bound to tc block " +
                          std::to_string(block) + ", not the checksum guard's");
    return put_filter(rtnl, prog_.get(), 0, side, true);
}

Result<void> CsumGuard::refresh(Rtnl& rtnl) const {
    // A blunt program would drop what the exact one let the header ask of
    // the ports bound to the ingress block (their taps keep it).
    for (Side side : {Side::Ingress, Side::Egress}) {
        if (side == Side::Ingress && kind_ != Kind::Exact) continue;
        Result<void> r = put_filter(rtnl, prog_.get(), 0, side, false);
        // No such block, as no port is bound to it (the kernel's words).
        bool absent = !r.ok() && r.error().code() == EINVAL &&
                      r.error().message().find("index was not found") != std::string::npos;
        if (!r.ok() && !absent) return r;
    }
    return Ok{};
}

}  // namespace ub::net
