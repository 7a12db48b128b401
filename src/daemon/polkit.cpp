#include "daemon/polkit.h"

#include <fcntl.h>
#include <poll.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "policy/daemon_options.h"

namespace ub::daemon {

namespace {

constexpr const char* kAuthority = "org.freedesktop.PolicyKit1";
constexpr const char* kAuthorityPath = "/org/freedesktop/PolicyKit1/Authority";
constexpr const char* kAuthorityIface = "org.freedesktop.PolicyKit1.Authority";
// CheckAuthorization's flag: polkit may have the subject's agent prompt.
constexpr std::uint32_t kAllowUserInteraction = 1;

std::string bus_error(int r) { return std::strerror(-r); }

// What polkit's reply (or the error that came instead) says, in words.
PolkitAnswer interpret(std::uint64_t id, sd_bus_message* m, bool interactive, std::chrono::milliseconds wait,
                       const std::string& question, KeptAuthorizations& kept) {
    PolkitAnswer a{id, false, ""};
    if (sd_bus_message_is_method_error(m, nullptr)) {
        const sd_bus_error* e = sd_bus_message_get_error(m);
        std::string name = e && e->name ? e->name : "?";
        std::string text = e && e->message ? e->message : "";
        if (name == SD_BUS_ERROR_NO_REPLY)
            a.what = "no: polkit gave no answer within " + std::to_string(wait.count() / 1000) + " s";
        else if (name == SD_BUS_ERROR_SERVICE_UNKNOWN || name == SD_BUS_ERROR_NAME_HAS_NO_OWNER)
            a.what = "no: polkit is not running on the system bus";
        else
            a.what = "no: polkit failed";
        a.what += " (" + name + (text.empty() ? "" : ": " + text) + ")";
        return a;
    }
    int authorized = 0, challenge = 0;
    if (sd_bus_message_enter_container(m, 'r', "bba{ss}") <= 0 ||
        sd_bus_message_read(m, "bb", &authorized, &challenge) <= 0 ||
        sd_bus_message_enter_container(m, 'a', "{ss}") <= 0) {
        a.what = "no: polkit's reply could not be read";
        return a;
    }
    PolkitReply r;
    r.authorized = authorized != 0;
    r.challenge = challenge != 0;
    const char* key = nullptr;
    const char* value = nullptr;
    while (sd_bus_message_read(m, "{ss}", &key, &value) > 0) {
        std::string_view k(key), v(value);
        if (k == "polkit.dismissed") r.dismissed = !v.empty() && v != "false";
        if (k == "polkit.temporary_authorization_id") r.kept_id = v;
        // "true" only from polkit's challenge callback, after this
        // question's own password; its synchronous check writes "1" for
        // any action it judged, and a cold review had an implying action
        // write it beside another action's kept id (review item 31-1).
        if (k == "polkit.retains_authorization_after_challenge") r.kept_now = v == "true";
    }
    const char* sender = sd_bus_message_get_sender(m);
    return judge(id, r, sender ? sender : "", interactive, question, kept, KeptAuthorizations::Clock::now());
}

struct Ctx {
    std::uint64_t id;
    bool interactive;
    std::chrono::milliseconds wait;
    std::string question;  // question_key()
    KeptAuthorizations* kept;
    std::vector<PolkitAnswer>* answers;
    std::vector<std::uint64_t>* to_cancel;  // questions polkit may still be judging
    bool answered = false;
};

int on_reply(sd_bus_message* m, void* userdata, sd_bus_error* /*unused*/) {
    auto* c = static_cast<Ctx*>(userdata);
    c->answered = true;
    // Our wait ran out (sd-bus's timeout): polkit may be waiting still, on
    // an authentication agent that never answers, and the bus counts the
    // call against us until it does.
    if (sd_bus_message_is_method_error(m, SD_BUS_ERROR_NO_REPLY)) c->to_cancel->push_back(c->id);
    c->answers->push_back(interpret(c->id, m, c->interactive, c->wait, c->question, *c->kept));
    return 0;
}

// The cancellation id a question is sent with (unique on our connection,
// which is how polkit tells them apart).
std::string cancellation_id(std::uint64_t id) { return "userbridge-" + std::to_string(id); }

Result<void> append_question(sd_bus_message* m, const PolkitQuestion& q, std::uint64_t id) {
    const PolkitSubject& s = q.subject;
    std::string queues = std::to_string(q.queues);
    int r = sd_bus_message_open_container(m, 'r', "sa{sv}");
    if (r >= 0) r = sd_bus_message_append(m, "s", "unix-process");
    if (r >= 0) r = sd_bus_message_open_container(m, 'a', "{sv}");
    if (r >= 0) r = sd_bus_message_append(m, "{sv}", "pid", "u", static_cast<std::uint32_t>(s.pid));
    if (r >= 0) r = sd_bus_message_append(m, "{sv}", "start-time", "t", s.start_time);
    if (r >= 0) r = sd_bus_message_append(m, "{sv}", "uid", "i", static_cast<std::int32_t>(s.uid));
    if (r >= 0) r = sd_bus_message_close_container(m);
    if (r >= 0) r = sd_bus_message_close_container(m);
    if (r >= 0) r = sd_bus_message_append(m, "s", policy::kPolkitAction);
    // What polkit rules may test with action.lookup(): the bridge, the
    // queues, the VM's name, the caller's command, what is asked for.
    if (r >= 0)
        r = sd_bus_message_append(m, "a{ss}", 5, "bridge", q.bridge.c_str(), "queues", queues.c_str(), "vm",
                                  q.vm.c_str(), "command", s.comm.c_str(), "kind", q.kind.c_str());
    if (r >= 0)
        r = sd_bus_message_append(m, "us", q.interactive ? kAllowUserInteraction : 0u, cancellation_id(id).c_str());
    if (r < 0) return Error::msg("cannot build the question to polkit: " + bus_error(r));
    return Ok{};
}

}  // namespace

struct Polkit::Bus {
    sd_bus* bus = nullptr;
    struct Pending {
        sd_bus_slot* slot = nullptr;
        std::unique_ptr<Ctx> ctx;
    };
    std::map<std::uint64_t, Pending> pending;
    ~Bus() {
        for (auto& [id, p] : pending) sd_bus_slot_unref(p.slot);
        if (bus) sd_bus_flush_close_unref(bus);
    }
};

// polkit keeps an authorization 5 minutes; a little longer here, since a
// kept one answered after its time here is refused, not granted.
constexpr auto kKeptFor = std::chrono::minutes(6);
// Bounded whatever the number of passwords typed in that time.
constexpr std::size_t kMaxKept = 4096;

void KeptAuthorizations::made(const std::string& id, const std::string& authority, const std::string& question,
                              Clock::time_point now) {
    std::erase_if(kept_, [now](const auto& k) { return k.second.until <= now; });
    if (kept_.size() >= kMaxKept)
        kept_.erase(std::min_element(kept_.begin(), kept_.end(),
                                     [](const auto& a, const auto& b) { return a.second.until < b.second.until; }));
    kept_[id] = {authority, question, now + kKeptFor};
}

bool KeptAuthorizations::for_question(const std::string& id, const std::string& authority,
                                      const std::string& question, Clock::time_point now) const {
    auto it = kept_.find(id);
    return it != kept_.end() && it->second.until > now && it->second.authority == authority &&
           it->second.question == question;
}

std::string question_key(const PolkitQuestion& q) {
    // NUL between the fields: none holds one (D-Bus strings cannot).
    std::string key = std::to_string(q.subject.uid);
    for (const std::string& field : {q.bridge, q.vm, std::to_string(q.queues), q.subject.comm, q.kind}) {
        key += '\0';
        key += field;
    }
    return key;
}

PolkitAnswer judge(std::uint64_t id, const PolkitReply& r, const std::string& authority, bool interactive,
                   const std::string& question, KeptAuthorizations& kept, KeptAuthorizations::Clock::time_point now) {
    PolkitAnswer a{id, false, ""};
    if (r.authorized && !r.kept_id.empty() && r.kept_now) kept.made(r.kept_id, authority, question, now);
    if (r.authorized && !r.kept_id.empty() && !r.kept_now &&
        !kept.for_question(r.kept_id, authority, question, now)) {
        a.what = "no: polkit answered from an authorization it kept after a password for another request, "
                 "which its rules did not judge this one by (ask again once it lapses, within 5 minutes)";
    } else if (r.authorized) {
        a.yes = true;
        a.what = "yes";
    } else if (r.dismissed) {
        a.what = "no: the authentication prompt was dismissed";
    } else if (r.challenge) {
        a.prompt = !interactive;
        a.what = interactive ? "no: polkit asks the user to authenticate, and no authentication agent answered"
                             : "no: polkit asks the user to authenticate, and the request allowed no prompt "
                               "(userbridge run --ask, USERBRIDGE_ASK=1)";
    } else {
        a.what = std::string("no: polkit does not authorize ") + policy::kPolkitAction;
    }
    return a;
}

Polkit::Polkit() = default;
Polkit::~Polkit() = default;

Result<PolkitSubject> parse_proc_stat(std::string_view stat) {
    // "PID (COMM) S PPID ...": the command may hold ')' and spaces, so it
    // ends at the last ')'.
    std::size_t open = stat.find('(');
    std::size_t close = stat.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return Error::msg("/proc stat: no command in parentheses");
    PolkitSubject s;
    s.comm = std::string(stat.substr(open + 1, close - open - 1));
    // Fields 3 onwards follow; starttime is field 22, the 20th after ')'.
    std::string_view rest = stat.substr(close + 1);
    for (int field = 3; field <= 22; ++field) {
        std::size_t start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) return Error::msg("/proc stat: too few fields");
        rest = rest.substr(start);
        std::size_t end = std::min(rest.find(' '), rest.size());
        if (field == 22) {
            std::string_view digits = rest.substr(0, end);
            if (digits.empty() || digits.size() > 19 || digits.find_first_not_of("0123456789") != std::string_view::npos)
                return Error::msg("/proc stat: starttime is not a number");
            for (char c : digits) s.start_time = s.start_time * 10 + static_cast<std::uint64_t>(c - '0');
        }
        rest = rest.substr(end);
    }
    return s;
}

Result<PolkitSubject> polkit_subject_of(int pidfd, pid_t pid, uid_t uid) {
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    UniqueFd f(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f.valid()) return Error::sys("open " + path);
    char buf[1024];
    ssize_t n = read(f.get(), buf, sizeof buf - 1);
    if (n <= 0) return Error::sys("read " + path);
    // Read while the pidfd's process lives: the pid was still its own, not
    // reused (a pidfd turns readable when its process exits).
    pollfd p{pidfd, POLLIN, 0};
    if (poll(&p, 1, 0) != 0) return Error::msg("the requesting process exited");
    PolkitSubject s = UB_TRY(parse_proc_stat(std::string_view(buf, static_cast<std::size_t>(n))));
    s.pid = pid;
    s.uid = uid;
    return s;
}

Result<void> Polkit::connect() {
    if (bus_) return Ok{};
    auto b = std::make_unique<Bus>();
    // Not sd_bus_default_system: nothing global, and its own connection to
    // drop when the bus goes away. The connect() and the authentication
    // run without blocking; the question waits in sd-bus's queue meanwhile.
    // As sd_bus_open_system does it, but taking no fds: polkit sends none,
    // and any user may send us a signal carrying some, which sd-bus would
    // close in the serving thread (review item 29-1, daemon/closer.h).
    int r = sd_bus_new(&b->bus);
    const char* address = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS");
    if (r >= 0) r = sd_bus_set_address(b->bus, address ? address : "unix:path=/run/dbus/system_bus_socket");
    if (r >= 0) r = sd_bus_set_bus_client(b->bus, 1);
    if (r >= 0) r = sd_bus_negotiate_fds(b->bus, 0);
    if (r >= 0) r = sd_bus_start(b->bus);
    if (r < 0) return Error::msg("no system bus to ask polkit on (" + bus_error(r) + ")");
    bus_ = std::move(b);
    return Ok{};
}

void Polkit::drop_connection(const std::string& why) {
    if (!bus_) return;
    kept_.clear();  // the next bus's unique names start again
    for (auto& [id, p] : bus_->pending)
        if (!p.ctx->answered) answers_.push_back({id, false, "no: " + why});
    bus_.reset();
}

Result<std::uint64_t> Polkit::ask(const PolkitQuestion& q) {
    UB_TRYV(connect());
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_->bus, &raw, kAuthority, kAuthorityPath, kAuthorityIface,
                                           "CheckAuthorization");
    std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> m(raw, sd_bus_message_unref);
    if (r < 0) {
        drop_connection("the system bus went away");
        return Error::msg("the system bus connection failed (" + bus_error(r) + ")");
    }
    std::uint64_t id = next_id_++;
    UB_TRYV(append_question(m.get(), q, id));
    auto wait = q.interactive ? kPolkitWaitInteractive : kPolkitWait;
    auto ctx = std::make_unique<Ctx>(Ctx{id, q.interactive, wait, question_key(q), &kept_, &answers_, &to_cancel_});
    sd_bus_slot* slot = nullptr;
    r = sd_bus_call_async(bus_->bus, &slot, m.get(), on_reply, ctx.get(),
                          static_cast<std::uint64_t>(wait.count()) * 1000);
    if (r < 0) {
        drop_connection("the system bus went away");
        return Error::msg("cannot ask polkit over the system bus (" + bus_error(r) + ")");
    }
    bus_->pending[id] = {slot, std::move(ctx)};
    return id;
}

void Polkit::forget(std::uint64_t id) {
    if (!bus_) return;
    auto it = bus_->pending.find(id);
    if (it == bus_->pending.end()) return;
    if (!it->second.ctx->answered) cancel(id);
    sd_bus_slot_unref(it->second.slot);
    bus_->pending.erase(it);
}

// A question we no longer wait for, withdrawn: polkit then answers it
// (with an error), and the bus stops counting it against our connection.
// Unwithdrawn, a question whose authentication agent never answers stays
// open for good, and the bus refuses every question past its limit of
// calls awaiting a reply (dbus-daemon's max_replies_per_connection, 128):
// one user's frozen agent would have refused polkit's rules to everyone
// (review item 34-2). No reply is wanted: there is nothing to do with it.
void Polkit::cancel(std::uint64_t id) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_->bus, &raw, kAuthority, kAuthorityPath, kAuthorityIface,
                                           "CancelCheckAuthorization");
    std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> m(raw, sd_bus_message_unref);
    if (r >= 0) r = sd_bus_message_append(m.get(), "s", cancellation_id(id).c_str());
    if (r >= 0) r = sd_bus_message_set_expect_reply(m.get(), 0);
    if (r >= 0) r = sd_bus_message_set_auto_start(m.get(), 0);  // a polkitd gone took its questions along
    if (r >= 0) r = sd_bus_send(bus_->bus, m.get(), nullptr);
    (void)r;  // a bus that fails here is gone, and its questions with it
}

int Polkit::fd() const { return bus_ ? sd_bus_get_fd(bus_->bus) : -1; }

short Polkit::events() const {
    int e = bus_ ? sd_bus_get_events(bus_->bus) : 0;
    return static_cast<short>(e < 0 ? 0 : e);
}

int Polkit::timeout_ms() const {
    std::uint64_t until = 0;
    if (!bus_ || sd_bus_get_timeout(bus_->bus, &until) <= 0 || until == UINT64_MAX) return -1;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    std::uint64_t now_us = static_cast<std::uint64_t>(now.tv_sec) * 1000000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
    if (until <= now_us) return 0;
    return static_cast<int>(std::min<std::uint64_t>((until - now_us) / 1000 + 1, 60000));
}

bool decide_by(const PolkitAnswer* answer, policy::Decision& d, Refused& refused, audit::AuditRecord& rec) {
    if (!answer) return false;
    rec.polkit = answer->what;
    if (answer->yes) {
        d = policy::polkit_granted(d);
        return true;
    }
    d.reason = "polkit decides (auth=polkit at " + rec.rule + "): " + answer->what;
    refused = answer->prompt ? Refused::PolkitPrompt : Refused::Polkit;
    return true;
}

std::vector<PolkitAnswer> Polkit::process() {
    if (bus_) {
        int r = 0;
        while ((r = sd_bus_process(bus_->bus, nullptr)) > 0) {}
        // A closed connection answers what it still owed with errors first
        // (sd-bus does); anything left is answered here, and the next
        // question connects again.
        if (r < 0 || sd_bus_is_open(bus_->bus) <= 0)
            drop_connection("the system bus went away (" + bus_error(r < 0 ? r : -ECONNRESET) + ")");
    }
    std::vector<PolkitAnswer> out;
    out.swap(answers_);
    if (bus_) {
        for (std::uint64_t id : to_cancel_) cancel(id);
        for (const PolkitAnswer& a : out) forget(a.id);
    }
    to_cancel_.clear();
    return out;
}

}  // namespace ub::daemon
