#include "cli/common.h"

#include <unistd.h>

#include <cstdio>

#include "accounts/accounts.h"
#include "accounts/database_groups.h"
#include "base/system.h"

namespace ub::cli {

void out(const std::string& line) { std::printf("%s\n", line.c_str()); }

int fail(const std::string& msg, int code) {
    std::fprintf(stderr, "userbridge: %s\n", msg.c_str());
    return code;
}

json::Value json_head(const std::string& command) {
    json::Value v = json::Object{};
    v.set("schema_version", kSchemaVersion);
    v.set("command", command);
    return v;
}

int failed(bool as_json, const std::string& command, const std::string& msg, int code) {
    if (!as_json) return fail(msg, code);
    json::Value v = json_head(command);
    v.set("error", msg);
    out(v.dump());
    return code;
}

json::Value strings(const std::vector<std::string>& v) {
    json::Value a = json::Array{};
    for (const std::string& s : v) a.push(s);
    return a;
}

policy::LoadOptions with_nss() {
    policy::LoadOptions opt;
    opt.user_id = accounts::uid_of_name;
    opt.group_id = accounts::gid_of_name;
    opt.daemon = &policy::daemon_options();
    return opt;
}

Account as_caller(std::string name, policy::Credentials ids) {
    uid_t uid = ids.uid;
    return {std::move(ids), {}, uid, grant::Front::Helper, std::move(name)};
}

Account self() {
    Account me = as_caller("", {getuid(), getgid(), {}});
    if (Result<std::vector<gid_t>> groups = system::getgroups(); groups.ok())
        me.ids.groups = std::move(*groups);
    Result<std::optional<accounts::Account>> a = accounts::account_by_uid(me.ids.uid);
    me.user = a.ok() && *a ? (*a)->name : std::to_string(me.ids.uid);
    // userbridged's group= counts these too (policy::Credentials::account_groups).
    if (a.ok() && *a)
        if (Result<std::vector<gid_t>> listed = accounts::database_groups(**a); listed.ok())
            me.ids.account_groups = std::move(*listed);
    return me;
}

}  // namespace ub::cli
