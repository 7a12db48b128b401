// net/csum_guard.h: a tc program that drops frames waiting for their
// checksum, loaded once and attached to pinned macvtaps.
#include "net/csum_guard.h"

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <iterator>

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
constexpr bpf_insn load_u16(std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_H, dst, src, off, 0);
}
constexpr bpf_insn call(bpf_func_id f) { return insn(BPF_JMP | BPF_CALL, 0, 0, 0, f); }
constexpr bpf_insn jne_imm(std::uint8_t dst, std::int32_t imm, std::int16_t off) {
    return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm);
}
constexpr bpf_insn jeq_reg(std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return insn(BPF_JMP | BPF_JEQ | BPF_X, dst, src, off, 0);
}
constexpr bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Where the kernel's checksum state shows: bpf_l4_csum_replace changes the
// two bytes it is pointed at by (to - from), except on a frame that waits
// for its checksum (CHECKSUM_PARTIAL), where without BPF_F_PSEUDO_HDR it
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
constexpr bpf_insn kProgram[] = {
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
    load_u16(BPF_REG_1, BPF_REG_10, kFirst), load_u16(BPF_REG_2, BPF_REG_10, kAgain),
    jeq_reg(BPF_REG_1, BPF_REG_2, 10),
    // bpf_skb_store_bytes(skb, 12, fp-8, 2, 0): as it was
    mov_reg(BPF_REG_1, BPF_REG_6), mov_imm(BPF_REG_2, kAt), mov_reg(BPF_REG_3, BPF_REG_10),
    add_imm(BPF_REG_3, kFirst), mov_imm(BPF_REG_4, 2), mov_imm(BPF_REG_5, 0), call(BPF_FUNC_skb_store_bytes),
    jne_imm(BPF_REG_0, 0, 2),
    mov_imm(BPF_REG_0, TC_ACT_OK), exit_insn(),
    mov_imm(BPF_REG_0, TC_ACT_SHOT), exit_insn(),
};
// clang-format on
static_assert(std::size(kProgram) == 37, "the jumps' offsets count these instructions");

constexpr std::uint32_t kPriority = 1, kHandle = 1;
constexpr const char* kName = "userbridge_csum_guard";

}  // namespace

Result<CsumGuard> CsumGuard::load() {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
    attr.insns = reinterpret_cast<std::uintptr_t>(kProgram);
    attr.insn_cnt = std::size(kProgram);
    attr.license = reinterpret_cast<std::uintptr_t>("LGPL-2.1");
    std::strncpy(attr.prog_name, "ub_csum_guard", sizeof attr.prog_name - 1);
    long fd = ::syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0) return Error::sys("cannot load the checksum guard (bpf BPF_PROG_LOAD)");
    return CsumGuard(UniqueFd(static_cast<int>(fd)));
}

Result<void> CsumGuard::attach(Rtnl& rtnl, int ifindex) const {
    std::string on = " on ifindex " + std::to_string(ifindex);
    Message q;
    tcmsg* t = q.start<tcmsg>(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
    t->tcm_family = AF_UNSPEC;
    t->tcm_ifindex = ifindex;
    t->tcm_parent = TC_H_CLSACT;
    t->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
    mnl_attr_put_strz(q.nlh, TCA_KIND, "clsact");
    if (Result<void> r = rtnl.request(q.nlh, "add a clsact qdisc" + on); !r.ok() && r.error().code() != EEXIST)
        return r;
    // NLM_F_CREATE without NLM_F_EXCL: a filter of ours there is replaced.
    Message f;
    t = f.start<tcmsg>(RTM_NEWTFILTER, NLM_F_CREATE);
    t->tcm_family = AF_UNSPEC;
    t->tcm_ifindex = ifindex;
    t->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS);
    t->tcm_handle = kHandle;
    t->tcm_info = TC_H_MAKE(kPriority << 16, htons(ETH_P_ALL));
    mnl_attr_put_strz(f.nlh, TCA_KIND, "bpf");
    nlattr* opts = mnl_attr_nest_start(f.nlh, TCA_OPTIONS);
    mnl_attr_put_u32(f.nlh, TCA_BPF_FD, static_cast<std::uint32_t>(prog_.get()));
    mnl_attr_put_strz(f.nlh, TCA_BPF_NAME, kName);
    mnl_attr_put_u32(f.nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
    mnl_attr_nest_end(f.nlh, opts);
    return rtnl.request(f.nlh, "attach the checksum guard" + on);
}

}  // namespace ub::net
