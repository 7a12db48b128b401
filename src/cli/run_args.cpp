#include "cli/run_args.h"

#include <climits>

#include "base/number.h"
#include "policy/acl.h"
#include "base/names.h"

namespace ub::cli {


namespace {

bool take_value(const std::string& arg, const char* name, std::string& value) {
    std::string prefix = std::string(name) + "=";
    if (arg.compare(0, prefix.size(), prefix) != 0) return false;
    value = arg.substr(prefix.size());
    return true;
}

Result<bool> on_off(const std::string& key, const std::string& v) {
    if (v == "on") return true;
    if (v == "off") return false;
    return Error::msg("--nic " + key + "=" + printable(v) + ": expected on or off");
}

Result<std::chrono::milliseconds> parse_timeout(const std::string& v) {
    auto s = parse_decimal(v, 999999);
    if (!s) return Error::msg("--timeout=" + printable(v) + ": expected whole seconds, 1 to 999999");
    if (*s < 1) return Error::msg("--timeout must be at least 1 second");
    return std::chrono::milliseconds(*s * 1000);
}

Result<void> check_vm(const std::string& vm) {
    if (std::string why = vm_name_problem(vm); !why.empty())
        return Error::msg("VM name '" + printable(vm) + "' " + why);
    return Ok{};
}

Result<void> check_bridge(const std::string& br) {
    if (std::string why = ifname_problem(br); !why.empty())
        return Error::msg("bridge name '" + printable(br) + "' " + why);
    return Ok{};
}

}  // namespace

Result<void> parse_nic(const std::string& text, NicSpec& nic) {
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                          : comma - start);
        std::size_t eq = item.find('=');
        if (eq == std::string::npos)
            return Error::msg("--nic option '" + printable(item) + "' is not KEY=VALUE");
        std::string key = item.substr(0, eq), value = item.substr(eq + 1);
        if (key == "br") {
            UB_TRYV(check_bridge(value));
            nic.bridge = value;
        } else if (key == "vnet_hdr") {
            nic.vnet_hdr = UB_TRY(on_off(key, value));
        } else if (key == "queues") {
            auto n = parse_decimal(value, kMaxQueues);
            if (!n || *n < 1)
                return Error::msg("--nic queues=" + printable(value) + ": expected 1 to " +
                                  std::to_string(kMaxQueues));
            nic.queues = static_cast<std::uint16_t>(*n);
        } else if (key == "vm") {
            UB_TRYV(check_vm(value));
            nic.vm_name = value;
        } else {
            return Error::msg("unknown --nic option '" + printable(key) +
                              "' (known: br, vnet_hdr, queues, vm)");
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return Ok{};
}

Result<RunArgs> parse_run_args(const std::vector<std::string>& argv,
                               const std::string& default_helper) {
    RunArgs a;
    a.helper = default_helper;
    std::string default_bridge = "br0";
    std::vector<std::string> nic_texts;
    bool via_given = false;
    std::size_t i = 0;
    for (; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        std::string v;
        if (arg == "--") {
            ++i;
            break;
        } else if (take_value(arg, "--br", v)) {
            UB_TRYV(check_bridge(v));
            default_bridge = v;
        } else if (take_value(arg, "--helper", v)) {
            if (v.empty() || v.front() != '/')
                return Error::msg("--helper needs an absolute path");
            a.helper = v;
            if (!via_given) a.via = Via::Helper;
        } else if (take_value(arg, "--via", v)) {
            via_given = true;
            if (v == "auto") a.via = Via::Auto;
            else if (v == "daemon") a.via = Via::Daemon;
            else if (v == "helper") a.via = Via::Helper;
            else return Error::msg("--via=" + printable(v) + ": expected auto, daemon or helper");
        } else if (take_value(arg, "--vm", v)) {
            UB_TRYV(check_vm(v));
            a.vm_name = v;
        } else if (take_value(arg, "--timeout", v)) {
            a.timeout = UB_TRY(parse_timeout(v));
        } else if (arg == "--ask") {
            a.ask = true;
        } else if (take_value(arg, "--nic", v)) {
            nic_texts.push_back(v);
        } else if (arg == "--nic") {
            if (i + 1 >= argv.size()) return Error::msg("--nic needs OPTIONS");
            nic_texts.push_back(argv[++i]);
        } else if (arg.rfind("-", 0) == 0) {
            return Error::msg("unknown option '" + printable(arg) + "'");
        } else {
            break;  // the command starts here
        }
    }
    a.command.assign(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
    if (a.command.empty()) return Error::msg("missing COMMAND (put it after --)");
    if (nic_texts.size() > 8) return Error::msg("at most 8 --nic options");
    if (nic_texts.empty()) nic_texts.emplace_back();
    for (const std::string& t : nic_texts) {
        NicSpec nic;
        nic.bridge = default_bridge;
        if (!t.empty()) UB_TRYV(parse_nic(t, nic));
        // Distinct names per NIC, so a MAC derived from the name differs too.
        if (nic.vm_name.empty() && !a.vm_name.empty()) {
            nic.vm_name = a.nics.empty() ? a.vm_name : a.vm_name + "." + std::to_string(a.nics.size());
            UB_TRYV(check_vm(nic.vm_name));
        }
        a.nics.push_back(nic);
    }
    return a;
}

Result<std::string> substitute(const std::string& arg, const std::vector<NicValues>& nics) {
    static const char* const kNames[] = {"fd", "fds", "queues", "ifname", "mac", "tapmac", "mtu"};
    std::string out;
    std::size_t pos = 0;
    while (pos < arg.size()) {
        std::size_t open = arg.find('{', pos);
        std::size_t close = open == std::string::npos ? open : arg.find('}', open);
        if (close == std::string::npos) {
            out += arg.substr(pos);
            break;
        }
        open = arg.rfind('{', close);  // the innermost: "{{fd}}" gives "{6}"
        out += arg.substr(pos, open - pos);
        std::string inner = arg.substr(open + 1, close - open - 1);
        std::string name = inner.substr(0, inner.find_first_of("0123456789"));
        std::string digits = inner.substr(name.size());
        bool known = false;
        for (const char* n : kNames) known = known || name == n;
        if (!known || digits.find_first_not_of("0123456789") != std::string::npos ||
            digits.size() > 3) {
            out += arg.substr(open, close - open + 1);  // not ours: keep it
            pos = close + 1;
            continue;
        }
        std::size_t idx = digits.empty() ? 0 : std::stoul(digits);
        if (idx >= nics.size())
            return Error::msg("placeholder {" + inner + "} refers to NIC " + std::to_string(idx) +
                              ", but only " + std::to_string(nics.size()) + " NIC(s) requested");
        const NicValues& n = nics[idx];
        if (name == "fd") out += std::to_string(n.fd);
        else if (name == "fds") out += n.fds;
        else if (name == "queues") out += std::to_string(n.queues);
        else if (name == "ifname") out += n.ifname;
        else if (name == "mac") out += n.guest_mac;
        else if (name == "tapmac") out += n.tap_mac;
        else out += std::to_string(n.mtu);
        pos = close + 1;
    }
    return out;
}

std::string run_usage() {
    return "Usage: userbridge run [OPTIONS] [--] COMMAND [ARGS...]\n"
           "\n"
           "Obtains bridged tap devices through the bridge helper, then runs COMMAND\n"
           "with the tap fds inherited. In ARGS, {fd} {ifname} {mac} {tapmac} {mtu}\n"
           "stand for the first NIC, {fd0} {fd1} ... {ifname1} {mac1} ... for each NIC\n"
           "in order. {mac} is the MAC for the guest: the one the ACL pins, if it does,\n"
           "else the tap's own MAC, {tapmac}, with its first byte 0x52 instead of 0xfe.\n"
           "{fds} is every queue's fd joined by ':' and {queues} their number: QEMU\n"
           "takes -netdev tap,fds={fds} (it counts the queues itself) with\n"
           "-device virtio-net-pci,mq=on,vectors=2*{queues}+2.\n"
           "The taps disappear when COMMAND exits.\n"
           "\n"
           "  --br=BRIDGE      bridge for NICs that name none (default br0)\n"
           "  --nic OPTIONS    add a NIC; OPTIONS: br=BRIDGE,vnet_hdr=on|off,\n"
           "                   queues=N (a multiqueue tap), vm=NAME\n"
           "  --vm=NAME        the VM's name, for audit records and ACL-derived MACs\n"
           "                   (NIC n > 0 gets NAME.n unless it sets vm=)\n"
           "  --helper=PATH    bridge helper to use (any QEMU-compatible helper);\n"
           "                   implies --via=helper unless --via is given\n"
           "  --via=WAY        auto (default: userbridged if its socket is there,\n"
           "                   else the helper), daemon, or helper\n"
           "  --timeout=SECS   kill a helper that takes longer (default 10)\n"
           "  --ask            where the ACL hands the decision to polkit (auth=polkit),\n"
           "                   let it prompt for a password (userbridged only; waits\n"
           "                   up to 30 s)\n"
           "\n"
           "Example:\n"
           "  userbridge run --br=br0 -- qemu-system-x86_64 ... \\\n"
           "    -netdev tap,id=n0,fd={fd} -device virtio-net-pci,netdev=n0,mac={mac}\n";
}

}  // namespace ub::cli
