#include "daemon/subids.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <map>

#include "base/fd.h"
#include "base/number.h"

namespace ub::daemon {

namespace {

constexpr std::size_t kMaxFile = std::size_t{16} << 20;  // 16 MiB: a line each for 500,000 accounts

Result<std::string> read_small(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd.valid()) return Error::sys("cannot open " + path);
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::sys("cannot read " + path);
        if (n == 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxFile) return Error::msg(path + " is larger than 16 MiB");
    }
}

// The owner's uid, or -1: no such user, or no answer (a failed lookup is
// an unknown owner, not a failed read: one name must not hold back the
// ranges of every other). After one failure (`failing`) no other name of
// the pass is asked: a database that does not answer would otherwise hold
// the serving thread for each in turn.
long long lookup(const std::function<Result<long long>(const std::string&)>& user_id, const std::string& name,
                 bool& failing) {
    if (failing) return -1;
    Result<long long> id = user_id(name);
    failing = !id.ok();
    return id.ok() ? *id : -1;
}

}  // namespace

FileStamp stamp_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return {true, st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

std::vector<SubRange> parse_subids(std::string_view text) {
    std::vector<SubRange> out;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? "" : text.substr(nl + 1);
        std::size_t c1 = line.find(':');
        std::size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string_view::npos || c1 == 0) continue;
        auto first = parse_decimal(line.substr(c1 + 1, c2 - c1 - 1), kMaxId);
        auto count = parse_decimal(line.substr(c2 + 1), kMaxId);
        if (!first || !count || *count == 0 || *first + *count - 1 > kMaxId) continue;
        out.push_back({std::string(line.substr(0, c1)), static_cast<uid_t>(*first),
                       static_cast<std::uint32_t>(*count)});
    }
    return out;
}

Result<SubUids> SubUids::load(const std::string& path,
                              const std::function<Result<long long>(const std::string&)>& user_id,
                              const SubUids* before) {
    SubUids s;
    s.stamp_ = stamp_of(path);
    Result<std::string> text = read_small(path);
    if (!text.ok()) {
        if (text.error().code() == ENOENT) return s;
        return text.error();
    }
    std::map<std::string, long long> asked;  // each name once
    bool failing = false;
    for (const SubRange& r : parse_subids(*text)) {
        // subuid(5): the owner is a login name or a uid.
        long long owner = -1;
        if (auto numeric = parse_decimal(r.owner, kMaxId)) owner = static_cast<long long>(*numeric);
        else if (auto a = asked.find(r.owner); a != asked.end()) owner = a->second;
        else owner = asked[r.owner] = lookup(user_id, r.owner, failing);
        Owned o{r.first, r.count, static_cast<uid_t>(owner), r.owner, owner >= 0};
        if (!o.known && before)
            for (const Owned& b : before->ranges_)
                if (b.known && b.name == o.name && b.first == o.first && b.count == o.count) {
                    o = b;
                    o.kept = true;
                }
        s.ranges_.push_back(std::move(o));
    }
    if (before)
        for (const Owned& b : before->ranges_) {
            auto overlaps = [&b](const Owned& r) { return b.first < r.first + r.count && r.first < b.first + b.count; };
            if (std::none_of(s.ranges_.begin(), s.ranges_.end(), overlaps))
                s.ranges_.push_back({b.first, b.count, 0, b.name, false, false, true});
        }
    // Looked up at every accept: sorted, for a binary search.
    std::sort(s.ranges_.begin(), s.ranges_.end(), [](const Owned& a, const Owned& b) { return a.first < b.first; });
    return s;
}

const SubUids::Owned* SubUids::range_of(uid_t uid) const {
    // The last range starting at or below uid (ranges do not overlap in a
    // sane file; where they do, that one counts).
    auto after = std::upper_bound(ranges_.begin(), ranges_.end(), uid,
                                  [](uid_t u, const Owned& r) { return u < r.first; });
    if (after == ranges_.begin()) return nullptr;
    const Owned& r = *std::prev(after);
    return uid - r.first < r.count ? &r : nullptr;
}

uid_t SubUids::account_of(uid_t uid) const {
    const Owned* r = range_of(uid);
    return r && r->known ? r->owner : uid;
}

std::optional<SubUids::Unknown> SubUids::unknown_owner(uid_t uid) const {
    const Owned* r = range_of(uid);
    if (r && !r->known) return Unknown{r->name, r->first, r->removed};
    return std::nullopt;
}

Result<bool> SubUids::resolve_unknown(const std::function<Result<long long>(const std::string&)>& user_id) {
    std::map<std::string, long long> asked;
    bool moved = false, failing = false;
    for (Owned& r : ranges_) {
        if ((r.known && !r.kept) || r.removed) continue;
        auto a = asked.find(r.name);
        long long owner = a != asked.end() ? a->second : asked[r.name] = lookup(user_id, r.name, failing);
        if (owner < 0) continue;
        moved = moved || !r.known || r.owner != static_cast<uid_t>(owner);
        r.owner = static_cast<uid_t>(owner);
        r.known = true;
        r.kept = false;
    }
    return moved;
}

bool SubUids::same_ranges(const SubUids& o) const {
    return std::equal(ranges_.begin(), ranges_.end(), o.ranges_.begin(), o.ranges_.end(),
                      [](const Owned& a, const Owned& b) {
                          return a.first == b.first && a.count == b.count && a.name == b.name && a.known == b.known &&
                                 (!a.known || a.owner == b.owner);
                      });
}

bool SubUids::any_unknown() const {
    return std::any_of(ranges_.begin(), ranges_.end(), [](const Owned& r) { return !r.known || r.kept; });
}

std::optional<uid_t> SubUids::policy_account(uid_t uid) const {
    uid_t account = account_of(uid);
    if (account == uid || of_root(uid)) return std::nullopt;
    return account;
}

}  // namespace ub::daemon
