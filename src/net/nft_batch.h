// A tap's elements in and out of userbridged's nftables table (net/mac_pin.h)
// as one netlink batch, built with libnftnl: one transaction, so a grant
// gets all of its elements or none, and one round trip with no ruleset
// fetched and no command text parsed (which libnftables does for every
// command, at a cost that grows with the elements in the sets). The table
// itself is made with libnftables; a batch only fills it.
//
// The socket is opened once, as the daemon starts (before its seccomp
// filter), and kept: an nf_tables socket's last close waits for an RCU
// grace period.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/mac_pin.h"
#include "net/rtnl.h"

struct nlmsghdr;

namespace ub::net {

class NftBatch {
public:
    // A NETLINK_NETFILTER socket, bound.
    static Result<NftBatch> open();

    // Adds the limit objects, then the elements, in one transaction.
    Result<void> add(const TapElements& tap);
    // Deletes the elements, then the limit objects, in one transaction; or,
    // when that fails (an element already gone: an administrator's flush),
    // each alone, so that one missing keeps none of the others. The first
    // failure is the error.
    Result<void> remove(const TapElements& tap);

private:
    explicit NftBatch(MnlSocket nl);
    struct Batch;
    struct Replies {
        std::size_t acks = 0;
        std::optional<Error> failed;  // the first error
        void fail(Error e) {
            if (!failed) failed = std::move(e);
        }
    };
    // Sends `batch` and reads every reply: the transaction's result, each
    // message acknowledged, an error in the kernel's words.
    Result<void> commit(const Batch& batch);
    void reply(const Batch& batch, const nlmsghdr* nlh, std::size_t avail, Replies& r) const;
    Result<Batch> removal(const TapElements& tap);

    MnlSocket nl_;
    unsigned portid_;
    std::uint32_t seq_;
};

}  // namespace ub::net
