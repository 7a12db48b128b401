#include "protocol/userdb_wire.h"

#include <optional>
#include <vector>

#include "base/number.h"

namespace ub::protocol::userdb {

namespace {

constexpr long long kMaxSeq = 4294967295LL;

bool is_kind(char c) { return c == 'u' || c == 'U' || c == 'G' || c == 'g'; }

// A name as a database may hold it: not empty, bounded, and free of the
// bytes that would cut or split a message.
bool good_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxName) return false;
    for (char c : s)
        if (c == '\0' || c == '\t' || c == '\n') return false;
    return true;
}

// Decimal in its one spelling (no leading zeros), so that what decodes
// encodes back to the same bytes.
std::optional<long long> canonical(std::string_view s, long long max) {
    if (s.size() > 1 && s[0] == '0') return std::nullopt;
    return parse_decimal(s, max);
}

bool good_id(std::string_view s) { return canonical(s, kMaxId).has_value(); }

// Splits at the first `max - 1` tabs; the last field keeps any tabs after.
std::vector<std::string_view> fields(std::string_view s, std::size_t max) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < max) {
        std::size_t tab = s.find('\t');
        if (tab == std::string_view::npos) break;
        out.push_back(s.substr(0, tab));
        s.remove_prefix(tab + 1);
    }
    out.push_back(s);
    return out;
}

Result<std::uint32_t> seq_of(std::string_view s) {
    auto n = canonical(s, kMaxSeq);
    if (!n) return Error::msg("user database message: bad sequence number");
    return static_cast<std::uint32_t>(*n);
}

bool arg_fits(Kind kind, std::string_view arg) {
    return kind == Kind::UserByUid || kind == Kind::GroupsByUid ? good_id(arg) : good_name(arg);
}

bool good_value(Kind kind, std::string_view v) {
    switch (kind) {
    case Kind::UserByUid: return good_name(v);
    case Kind::GroupsByUid: return parse_groups(v).ok();
    case Kind::UidByUser:
    case Kind::GidByGroup: return good_id(v);
    }
    return false;
}

}  // namespace

Result<std::string> encode(const Question& q) {
    if (!is_kind(static_cast<char>(q.kind)) || !arg_fits(q.kind, q.arg))
        return Error::msg("cannot ask the user database about that name");
    return std::to_string(q.seq) + '\t' + static_cast<char>(q.kind) + '\t' + q.arg;
}

Result<Question> decode_question(std::string_view bytes) {
    if (bytes.size() > kMaxMessage) return Error::msg("user database question too long");
    std::vector<std::string_view> f = fields(bytes, 3);
    if (f.size() != 3 || f[1].size() != 1 || !is_kind(f[1][0]))
        return Error::msg("user database question out of shape");
    Question q;
    q.seq = UB_TRY(seq_of(f[0]));
    q.kind = static_cast<Kind>(f[1][0]);
    if (!arg_fits(q.kind, f[2])) return Error::msg("user database question: bad argument");
    q.arg = std::string(f[2]);
    return q;
}

std::string encode(const Answer& a) {
    std::string out = std::to_string(a.seq) + '\t' + static_cast<char>(a.outcome);
    if (a.outcome == Outcome::None) return out;
    std::size_t bound = a.outcome == Outcome::Found ? kMaxMessage - out.size() - 1 : kMaxWhy;
    return out + '\t' + a.value.substr(0, bound);
}

Result<std::uint32_t> answer_seq(std::string_view bytes) {
    if (bytes.size() > kMaxMessage) return Error::msg("user database answer too long");
    return seq_of(fields(bytes, 2).front());
}

Result<Answer> decode_answer(std::string_view bytes, Kind kind) {
    if (bytes.size() > kMaxMessage) return Error::msg("user database answer too long");
    std::vector<std::string_view> f = fields(bytes, 3);
    Answer a;
    a.seq = UB_TRY(seq_of(f.front()));
    if (f.size() < 2 || f[1].size() != 1) return Error::msg("user database answer out of shape");
    a.outcome = static_cast<Outcome>(f[1][0]);
    switch (a.outcome) {
    case Outcome::None:
        if (f.size() != 2) return Error::msg("user database answer out of shape");
        return a;
    case Outcome::Found: {
        bool ok = f.size() == 3 && good_value(kind, f[2]);
        if (!ok) return Error::msg("user database answer: bad value");
        a.value = std::string(f[2]);
        return a;
    }
    case Outcome::Failed:
        if (f.size() != 3 || f[2].empty() || f[2].size() > kMaxWhy || f[2].find('\0') != f[2].npos)
            return Error::msg("user database answer: bad reason");
        a.value = std::string(f[2]);
        return a;
    }
    return Error::msg("user database answer out of shape");
}

std::string format_groups(const std::vector<gid_t>& gids) {
    std::string out;
    for (gid_t g : gids) {
        if (!out.empty()) out += ',';
        out += std::to_string(g);
    }
    return out;
}

Result<std::vector<gid_t>> parse_groups(std::string_view value) {
    std::vector<gid_t> gids;
    for (;;) {
        std::size_t comma = value.find(',');
        auto id = canonical(value.substr(0, comma), kMaxId);
        if (!id || gids.size() == kMaxGroups) return Error::msg("user database answer: bad list of groups");
        gids.push_back(static_cast<gid_t>(*id));
        if (comma == std::string_view::npos) return gids;
        value.remove_prefix(comma + 1);
    }
}

}  // namespace ub::protocol::userdb
