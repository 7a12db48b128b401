// A grant's nftables elements as one nf_tables batch (nft_batch.h): the
// messages built with libnftnl into one buffer, sent with one sendto, and
// every reply read back and matched before the next batch.
#include "net/nft_batch.h"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <optional>
#include <utility>

namespace ub::net {

namespace {

constexpr const char* kTable = "userbridge";

// libnftnl's objects, freed with their holder. A set frees the elements
// added to it.
struct NftnlFree {
    void operator()(nftnl_set* s) const { nftnl_set_free(s); }
    void operator()(nftnl_set_elem* e) const { nftnl_set_elem_free(e); }
    void operator()(nftnl_obj* o) const { nftnl_obj_free(o); }
};
using NftnlSet = std::unique_ptr<nftnl_set, NftnlFree>;
using NftnlElem = std::unique_ptr<nftnl_set_elem, NftnlFree>;
using NftnlObj = std::unique_ptr<nftnl_obj, NftnlFree>;

// Room for one message: a set element's keys are at most 20 bytes each,
// and every name is ours and short, so none comes near it.
constexpr std::size_t kMessageRoom = 512;

enum class Op { add, remove };

}  // namespace

// A batch under construction: begin, the messages, end, each numbered from
// `first`; `what[i]` says what message first + 1 + i does, for errors.
struct NftBatch::Batch {
    std::unique_ptr<char[]> buf;
    std::size_t size = 0;
    std::uint32_t first = 0;
    std::vector<std::string> what;

    Batch(std::size_t messages, std::uint32_t seq)
        : buf(std::make_unique<char[]>((messages + 2) * kMessageRoom)), first(seq) {
        close(nftnl_batch_begin(next(), first));
    }
    char* next() const { return buf.get() + size; }
    std::uint32_t seq() const { return first + 1 + static_cast<std::uint32_t>(what.size()); }
    nlmsghdr* header(std::uint16_t type, std::uint16_t flags) const {
        // Every message asks for its ACK: commit counts one a message.
        return nftnl_nlmsg_build_hdr(next(), type, NFPROTO_BRIDGE, flags | NLM_F_ACK, seq());
    }
    void close(const nlmsghdr* nlh) { size += NLMSG_ALIGN(nlh->nlmsg_len); }
    Result<void> message(const nlmsghdr* nlh, std::string text) {
        if (nlh->nlmsg_len > kMessageRoom) return Error::msg("nftables: a message too large to " + text);
        close(nlh);
        what.push_back(std::move(text));
        return Ok{};
    }
    void end() { close(nftnl_batch_end(next(), seq())); }

    Result<void> limit(Op op, const LimitObject& l) {
        NftnlObj o(nftnl_obj_alloc());
        if (!o) return Error::sys("nftables: cannot allocate a limit object");
        nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, kTable);
        nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, l.name.c_str());
        nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_LIMIT);
        if (op == Op::add) {
            // What `limit ... { rate over N bytes/second }` makes.
            nftnl_obj_set_u64(o.get(), NFTNL_OBJ_LIMIT_RATE, l.bytes_per_second);
            nftnl_obj_set_u64(o.get(), NFTNL_OBJ_LIMIT_UNIT, 1);
            nftnl_obj_set_u32(o.get(), NFTNL_OBJ_LIMIT_BURST, 0);
            nftnl_obj_set_u32(o.get(), NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKT_BYTES);
            nftnl_obj_set_u32(o.get(), NFTNL_OBJ_LIMIT_FLAGS, NFT_LIMIT_F_INV);
        }
        nlmsghdr* nlh = op == Op::add ? header(NFT_MSG_NEWOBJ, NLM_F_CREATE) : header(NFT_MSG_DELOBJ, 0);
        nftnl_obj_nlmsg_build_payload(nlh, o.get());
        return message(nlh, (op == Op::add ? "add limit " : "delete limit ") + l.name);
    }

    Result<void> element(Op op, const SetElement& e) {
        NftnlSet s(nftnl_set_alloc());
        NftnlElem el(nftnl_set_elem_alloc());
        if (!s || !el) return Error::sys("nftables: cannot allocate a set element");
        nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, kTable);
        nftnl_set_set_str(s.get(), NFTNL_SET_NAME, e.set.c_str());
        nftnl_set_elem_set(el.get(), NFTNL_SET_ELEM_KEY, e.key.data(), static_cast<std::uint32_t>(e.key.size()));
        if (!e.key_end.empty())
            nftnl_set_elem_set(el.get(), NFTNL_SET_ELEM_KEY_END, e.key_end.data(),
                               static_cast<std::uint32_t>(e.key_end.size()));
        if (op == Op::add && !e.object.empty())
            nftnl_set_elem_set_str(el.get(), NFTNL_SET_ELEM_OBJREF, e.object.c_str());
        nftnl_set_elem_add(s.get(), el.release());
        nlmsghdr* nlh = op == Op::add ? header(NFT_MSG_NEWSETELEM, NLM_F_CREATE) : header(NFT_MSG_DELSETELEM, 0);
        nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
        return message(nlh, (op == Op::add ? "add an element to set " : "delete an element of set ") + e.set);
    }
};

NftBatch::NftBatch(MnlSocket nl)
    : nl_(std::move(nl)), portid_(mnl_socket_get_portid(nl_.get())),
      // A varying start, as Rtnl's: replies to an earlier process's
      // requests on a recycled port id are never taken for ours.
      seq_(static_cast<std::uint32_t>(time(nullptr))) {}

Result<NftBatch> NftBatch::open() {
    // Non-blocking: the kernel runs a batch as it is sent, so every reply
    // is queued when sendto returns, and reading stops when none is left.
    return NftBatch(UB_TRY(open_netlink(NETLINK_NETFILTER, SOCK_NONBLOCK, 0, "nf_tables socket")));
}

Result<void> NftBatch::add(const TapElements& tap) {
    Batch b(tap.limits.size() + tap.elements.size(), seq_);
    for (const LimitObject& l : tap.limits) UB_TRYV(b.limit(Op::add, l));
    for (const SetElement& e : tap.elements) UB_TRYV(b.element(Op::add, e));
    b.end();
    return commit(b);
}

Result<NftBatch::Batch> NftBatch::removal(const TapElements& tap) {
    Batch b(tap.limits.size() + tap.elements.size(), seq_);
    for (const SetElement& e : tap.elements) UB_TRYV(b.element(Op::remove, e));
    // After the map elements that name them.
    for (const LimitObject& l : tap.limits) UB_TRYV(b.limit(Op::remove, l));
    b.end();
    return b;
}

Result<void> NftBatch::remove(const TapElements& tap) {
    if (tap.empty()) return Ok{};
    if (commit(UB_TRY(removal(tap))).ok()) return Ok{};
    std::optional<Error> first;
    auto alone = [&](const TapElements& one) -> Result<void> {
        Result<void> r = commit(UB_TRY(removal(one)));
        if (!r.ok() && !first) first = r.error();
        return Ok{};
    };
    for (const SetElement& e : tap.elements) UB_TRYV(alone({{}, {e}}));
    for (const LimitObject& l : tap.limits) UB_TRYV(alone({{l}, {}}));
    if (first) return *first;
    return Ok{};
}

// One reply to a batch `b`: an ACK counted, or an error kept (the first).
void NftBatch::reply(const Batch& b, const nlmsghdr* nlh, std::size_t avail, Replies& r) const {
    std::uint32_t last = b.seq();
    if (nlh->nlmsg_pid != portid_ || nlh->nlmsg_seq < b.first || nlh->nlmsg_seq > last)
        return r.fail(Error::msg("nftables: a reply to no request of ours"));
    if (nlh->nlmsg_type != NLMSG_ERROR) return r.fail(Error::msg("nftables: an unexpected reply"));
    std::string why;
    int err = decode_ack(nlh, avail, why);
    if (err == 0) {
        ++r.acks;
        return;
    }
    // The batch's first message (begin) when the commit itself failed.
    std::size_t i = nlh->nlmsg_seq - b.first;
    std::string what = i >= 1 && i <= b.what.size() ? b.what[i - 1] : "commit";
    r.fail(Error::sys("nftables: cannot " + what + (why.empty() ? "" : ": " + why), err));
}

Result<void> NftBatch::commit(const Batch& b) {
    seq_ = b.seq() + 1;  // past the end message's
    ssize_t sent = mnl_socket_sendto(nl_.get(), b.buf.get(), b.size);
    if (sent < 0) return Error::sys("nftables: cannot send a batch");
    if (static_cast<std::size_t>(sent) != b.size) return Error::msg("nftables: short netlink send");

    // Every reply is read, even past an error, so that none is left to be
    // taken for the next batch's.
    constexpr std::size_t kSize = 32768;
    auto buf = std::make_unique_for_overwrite<char[]>(kSize);
    Replies r;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl_.get(), buf.get(), kSize);
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) {
            int err = errno;
            r.fail(Error::sys("nftables: netlink receive", err));
            if (err == ENOBUFS) continue;  // replies were lost; read the rest
            break;
        }
        if (!well_framed(buf.get(), static_cast<std::size_t>(n))) {
            r.fail(Error::msg("nftables: a netlink message runs past its datagram"));
            continue;
        }
        int left = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.get()); mnl_nlmsg_ok(nlh, left);
             nlh = mnl_nlmsg_next(nlh, &left))
            reply(b, nlh, static_cast<std::size_t>(left), r);
    }
    if (r.failed) return *r.failed;
    if (r.acks != b.what.size())
        return Error::msg("nftables: " + std::to_string(r.acks) + " of " + std::to_string(b.what.size()) +
                          " messages acknowledged");
    return Ok{};
}

}  // namespace ub::net
