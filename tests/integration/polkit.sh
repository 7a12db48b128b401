#!/bin/bash
# auth=polkit: userbridged asks a real polkitd over a real system bus, both
# started here inside the test's mount namespace (the bus at
# /run/dbus/system_bus_socket in the test's /run), with polkit JavaScript
# rules in a private /etc/polkit-1/rules.d. A user the rules allow gets a
# tap, one they deny is refused with polkit's answer in the error and the
# record; a rule on action.lookup("bridge") tells br0 from br1; the helper
# refuses and names the daemon path; polkitd stopped, frozen or the bus
# gone fails closed, and a request waiting for polkit stalls nobody else.
# A pid namespace of its own: the pid reuse case sets the next pid.
export UB_PIDNS=1
source "$(dirname "$0")/lib.sh"

DBUS_DAEMON=$(command -v dbus-daemon || true)
POLKITD=/usr/lib/polkit-1/polkitd
if [ -z "$DBUS_DAEMON" ] || [ ! -x "$POLKITD" ]; then
    echo "SKIP: needs dbus-daemon and polkitd (scripts/install-deps.sh)"
    exit 77
fi

for b in br0 br1 br2; do bridge $b; done
D=/run/userbridge.sock
TT=$T/bin/ub-testtool

# --- A system bus and polkitd of our own ------------------------------------
# The bus lets anyone talk to anyone: what is tested is polkit's answer, not
# the bus's policy. No service directory: nothing is activated, so a
# stopped polkitd stays stopped.
mkdir -p /run/dbus "$T/polkit/rules.d" "$T/polkit/actions" "$T/polkit/empty"
cat >"$T/dbus.conf" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
# polkit's own actions plus ours, and two of another package's that imply
# ours (case kept); rules only from our directory.
cp /usr/share/polkit-1/actions/* "$T/polkit/actions/" 2>/dev/null || true
cp "$(dirname "$0")/../../packaging/polkit/org.userbridge.policy" "$T/polkit/actions/"
for x in x1 x2; do
    cat >"$T/polkit/actions/org.example.$x.policy" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <action id="org.example.$x">
    <description>An action that implies ours</description>
    <message>Authentication is required for example $x</message>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>no</allow_active></defaults>
    <annotate key="org.freedesktop.policykit.imply">org.userbridge.use-bridge</annotate>
  </action>
</policyconfig>
EOF
done
chmod 755 "$T/polkit" "$T/polkit/rules.d" "$T/polkit/actions" "$T/polkit/empty"
chmod 644 "$T/polkit/actions/"*
mount --bind "$T/polkit/actions" /usr/share/polkit-1/actions
mount --bind "$T/polkit/empty" /usr/share/polkit-1/rules.d
mkdir -p /etc/polkit-1/rules.d
mount --bind "$T/polkit/rules.d" /etc/polkit-1/rules.d

start_bus() {
    "$DBUS_DAEMON" --config-file="$T/dbus.conf" --nofork --nopidfile 2>>"$T/dbus.err" &
    BUS_PID=$!
    BACKGROUND+=($BUS_PID)
    for _ in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && return 0; sleep 0.05; done
    echo "dbus-daemon did not start:"; cat "$T/dbus.err"
    return 1
}
stop_bus() {
    kill "$BUS_PID" 2>/dev/null || true
    wait "$BUS_PID" 2>/dev/null || true
    rm -f /run/dbus/system_bus_socket
}
polkit_on_bus() {
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.PolicyKit1 2>/dev/null | grep -q 'boolean true'
}
start_polkitd() {
    "$POLKITD" --no-debug >>"$T/polkitd.log" 2>&1 &
    POLKITD_PID=$!
    BACKGROUND+=($POLKITD_PID)
    # Up to 30 s: on a loaded 2-core machine polkitd, which reads every
    # action file and starts its JavaScript engine, once took more than 10.
    for _ in $(seq 600); do polkit_on_bus && return 0; sleep 0.05; done
    echo "polkitd did not come on the bus:"; cat "$T/polkitd.log"
    return 1
}
stop_polkitd() {
    kill -CONT "$POLKITD_PID" 2>/dev/null || true
    kill "$POLKITD_PID" 2>/dev/null || true
    wait "$POLKITD_PID" 2>/dev/null || true
    for _ in $(seq 100); do polkit_on_bus || return 0; sleep 0.05; done
}
# rules JS: the only polkit rules file; polkitd rereads the directory when
# it changes, and logs each load it finishes (to our syslog sink).
loads() { grep -c 'polkitd.*Finished loading' "$SYSLOG" || true; }
rules() {
    local before
    before=$(loads)
    # Written beside the directory and renamed in: one change, whole.
    printf '%s\n' "$1" >"$T/polkit/50-test.rules"
    chmod 644 "$T/polkit/50-test.rules"
    mv "$T/polkit/50-test.rules" "$T/polkit/rules.d/50-test.rules"
    [ -n "${POLKITD_PID:-}" ] || return 0
    for _ in $(seq 100); do [ "$(loads)" -gt "$before" ] && return 0; sleep 0.05; done
    echo "polkitd did not reload its rules"
}

start_bus
rules 'polkit.addRule(function(action, subject) {
    if (action.id != "org.userbridge.use-bridge") return;
    if (subject.user == "ubalice" && action.lookup("bridge") == "br0") return polkit.Result.YES;
    return polkit.Result.NO;
});'
start_polkitd
check "polkitd runs on the test's own system bus" polkit_on_bus

acl 'allow br0 auth=polkit\nallow br1 auth=polkit\nallow br2\n'
start_daemon

# --- What the rules allow, and what they refuse -----------------------------
out=$(as_alice "$TT" daemon grant $D br0 2>&1 || true)
check "a user the polkit rules allow gets a tap" grep -q '^tap=' <<<"$out"
check "...recorded with polkit's answer" \
    soon grep -q 'event=grant user=ubalice uid=4711 .*bridge="br0".*polkit="yes"' "$SYSLOG"
refused "a user the rules deny is refused with polkit's answer" \
    "polkit decides (auth=polkit at /etc/qemu/bridge.conf:1): no: polkit does not authorize org.userbridge.use-bridge" \
    as_bob "$TT" daemon grant $D br0
check "...and the record says so" \
    soon grep -q 'event=deny user=ubbob uid=4712 .*bridge="br0".*polkit="no: polkit does not authorize' "$SYSLOG"
refused "action.lookup(\"bridge\"): the same user is refused br1" "no: polkit does not authorize" \
    as_alice "$TT" daemon grant $D br1
check "a bridge without auth=polkit is not asked about" grep -q '^tap=' <(as_bob "$TT" daemon grant $D br2)
check "userbridge-client gets the tap polkit allows" \
    grep -q 'tap=tap' <(as_alice "$TT" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br0)
check "userbridge run too" grep -q '^tap' <(as_alice "$T/bin/userbridge" run --via=daemon --br=br0 -- echo '{ifname}')
refused "the helper refuses an auth=polkit rule and names the daemon path" \
    "asks for auth=, which only userbridged does: use userbridge-client" \
    as_alice "$T/bin/userbridge" run --via=helper --helper="$T/bin/setuid-helper" --br=br0 -- true
out=$("$T/bin/userbridge" explain --user=ubalice --br=br0 2>&1 || true)
check "explain shows the polkit step, without asking" \
    grep -q '=> polkit decides: userbridged asks it for org.userbridge.use-bridge (not asked here)' <<<"$out"
check "check accepts auth=polkit" "$T/bin/userbridge" check /etc/qemu/bridge.conf
acl 'allow br0 auth=maybe\n' bad.conf
refused "check refuses another auth=" "auth=maybe: expected polkit" "$T/bin/userbridge" check /etc/qemu/bad.conf

# --- Review item 32-5: leases decided again under a reloaded ACL --------------
# polkit's yes stands (it is not asked again), but the rule's lease= holds;
# a lease polkit never allowed ends when its rule comes to ask polkit.
acl 'allow br0 auth=polkit lease=1h\nallow br1 auth=polkit\nallow br2 lease=1h\n'
reload_daemon
as_alice "$T/bin/userbridge" lease --br=br0 --name=pk0 --for=30m >/dev/null 2>&1 || true
as_bob "$T/bin/userbridge" lease --br=br2 --name=pk1 --for=30m >/dev/null 2>&1 || true
check "lease: polkit allows alice a lease of 30 min on br0, and the ACL bob one on br2" \
    bash -c 'ip link show pk0 && ip link show pk1' >/dev/null
acl 'allow br0 auth=polkit lease=10m\nallow br1 auth=polkit\nallow br2 auth=polkit lease=1h\n'
reload_daemon
check "lease: a reload to lease=10m ends alice's, which polkit allowed" soon bash -c '! ip link show pk0' 2>/dev/null
check "lease: ...and one whose rule now asks polkit ends bob's" soon bash -c '! ip link show pk1' 2>/dev/null
check "lease: ...saying so" soon grep -q 'event=expire .*tap=pk1.*asks polkit now' "$SYSLOG"
# action.lookup("kind"): a rule may allow her taps on br0 and not leases,
# which outlive the process that asked.
rules 'polkit.addRule(function(action, subject) {
    if (action.id != "org.userbridge.use-bridge") return;
    if (subject.user == "ubalice" && action.lookup("kind") == "tap") return polkit.Result.YES;
    return polkit.Result.NO;
});'
check "kind: a rule allowing her taps only grants her a tap on br0" \
    grep -q '^tap' <(as_alice "$T/bin/userbridge" run --via=daemon --br=br0 -- echo '{ifname}')
refused "kind: ...and refuses her a lease there" "no: polkit does not authorize" \
    as_alice "$T/bin/userbridge" lease --br=br0 --name=pk2 --for=5m
rules 'polkit.addRule(function(action, subject) {
    if (action.id != "org.userbridge.use-bridge") return;
    if (subject.user == "ubalice" && action.lookup("bridge") == "br0") return polkit.Result.YES;
    return polkit.Result.NO;
});'
acl 'allow br0 auth=polkit\nallow br1 auth=polkit\nallow br2\n'
reload_daemon

# --- A prompt that polkit would need, without --ask -------------------------
rules 'polkit.addRule(function(action, subject) {
    if (action.id == "org.userbridge.use-bridge") return polkit.Result.AUTH_SELF;
});'
refused "a rule that needs a password, and no --ask: refused, saying so" \
    "polkit asks the user to authenticate, and the request allowed no prompt" \
    as_alice "$TT" daemon grant $D br0
refused "with --ask and no authentication agent: refused" \
    "no authentication agent answered" \
    as_alice "$T/bin/userbridge" run --ask --via=daemon --br=br0 -- true
refused "userbridge-client with USERBRIDGE_ASK=1 lets polkit prompt too" "no authentication agent answered" \
    as_alice env USERBRIDGE_ASK=1 "$TT" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br0
refused "...and the C library with UB_OPEN_ASK" "no authentication agent answered" \
    as_alice env LD_LIBRARY_PATH="$T/bin" "$T/bin/ub-c-client" "$T/bin/setuid-helper" br0 vnet ask
refused "...but not without it" "the request allowed no prompt" \
    as_alice env LD_LIBRARY_PATH="$T/bin" "$T/bin/ub-c-client" "$T/bin/setuid-helper" br0 vnet

# --- A prompt answered by an authentication agent ---------------------------
# ubalice gets a password in the namespace's own /etc/shadow; pkttyagent,
# on a pty (it reads the password from its terminal), is registered for the
# requesting process before it asks, and types the password polkit's
# prompt wants, right or wrong.
# pkttyagent's terminal: a devpts of our own in the test's /dev.
mkdir -p /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
mknod -m 666 /dev/tty c 5 0
cp /etc/shadow "$T/shadow"
printf 'ubalice:%s:19000:0:99999:7:::\n' "$(openssl passwd -6 right-horse)" >>"$T/shadow"
chmod 640 "$T/shadow"
chown root:shadow "$T/shadow"
mount --bind "$T/shadow" /etc/shadow
# with_agent PASSWORD SCRIPT [ARG...]: ubalice's `bash -c SCRIPT ARG...`,
# pkttyagent (ended by its timeout) registered for that process first and
# answering with PASSWORD; the output in $T/ask.out. The script starts once
# the agent is registered (it waits on a fifo).
with_agent() {
    local password=$1 script=$2
    shift 2
    rm -f "$T/go"
    mkfifo -m 644 "$T/go"
    # Not the as_alice function: a function in the background is a subshell
    # whose child is the client; $! must be the client itself (env execs).
    "${AS_ALICE[@]}" env GO="$T/go" bash -c 'read -r _ <"$GO"; '"$script" "$@" >"$T/ask.out" 2>&1 &
    local client=$!
    : >"$T/agent.out"
    # The password once the agent reads it. pkttyagent prints its prompt,
    # then turns echo off with TCSAFLUSH, which discards a line typed in
    # between: type it once echo is off on the agent's terminal, then keep
    # stdin open until the agent reports an outcome.
    (within 10 agent_reads && printf '%s\n' "$password"
     within 10 grep -q 'AUTHENTICATION \(COMPLETE\|FAILED\)' "$T/agent.out") |
        # The agent stays in its terminal's foreground process group (its
        # tcsetattr would stop it with SIGTTOU otherwise): exec, whichever
        # shell script(1) runs, and timeout --foreground.
        as_alice script -qfec "exec timeout --foreground 10 pkttyagent --process $client" /dev/null >"$T/agent.out" 2>&1 &
    local agent=$!
    soon grep -q "Registered Authentication Agent for unix-process:$client:" "$SYSLOG"
    echo go >"$T/go"
    wait "$client" || true
    pkill -x pkttyagent || true  # its work is done; its timeout is a bound
    wait "$agent" 2>/dev/null || true
}
# ask_with_agent PASSWORD [COMMAND...]: alice's userbridge run --ask for
# br0 (then COMMAND, by default one that says "granted TAP"), with_agent.
ask_with_agent() {
    local then=("${@:2}")
    [ ${#then[@]} -gt 0 ] || then=(echo "granted {ifname}")
    with_agent "$1" 'exec "$0" run --ask --via=daemon --br=br0 -- "$@"' "$T/bin/userbridge" "${then[@]}"
}
# agent_reads: pkttyagent waits for the password, echo off on its terminal.
agent_reads() {
    local pid tty
    pid=$(pgrep -x pkttyagent) && tty=$(ps -o tty= -p "$pid") && [ -n "$tty" ] &&
        stty -F "/dev/${tty// /}" -a | grep -qw -- -echo
}
show_ask() {
    sed 's/^/    client: /' "$T/ask.out"
    sed 's/^/    agent: /' "$T/agent.out"
}
rules 'polkit.addRule(function(action, subject) {
    if (action.id == "org.userbridge.use-bridge") return polkit.Result.AUTH_SELF;
});'
ask_with_agent right-horse
check "--ask, and the agent types the right password: granted" grep -q '^granted tap' "$T/ask.out"
grep -q '^granted tap' "$T/ask.out" || show_ask
check "...and the record says polkit said yes" \
    soon grep -q 'event=grant user=ubalice .*polkit="yes"' "$SYSLOG"
ask_with_agent wrong-horse
check "--ask, and the agent types a wrong password: refused" grep -q 'access to bridge br0 denied: polkit decides' "$T/ask.out"
grep -q 'denied' "$T/ask.out" && echo "    ($(head -n1 "$T/ask.out"))" || show_ask
check "...and the record has polkit's no" \
    soon grep -q 'event=deny user=ubalice .*polkit="no: ' "$SYSLOG"
check "...no tap is left" test -z "$(taps)"

# --- A kept authorization answers only the question it was given for --------
# A rule's AUTH_SELF_KEEP has polkit keep the password's yes for the
# subject and the action, whatever the question: for 5 minutes it answers
# any question of that process from it, before its rules' no. ubalice
# types her password for br0, then the same process (userbridge run
# execs) asks again for br0, which the kept yes answers, and for br1,
# which the rules refuse her: a cold review got br1 so.
rules 'polkit.addRule(function(action, subject) {
    if (action.id != "org.userbridge.use-bridge") return;
    if (action.lookup("bridge") == "br0") return polkit.Result.AUTH_SELF_KEEP;
    return polkit.Result.NO;
});'
refused "kept: the rules refuse ubalice br1" "no: polkit does not authorize" \
    as_alice "$T/bin/userbridge" run --via=daemon --br=br1 -- true
before=$(wc -l <"$SYSLOG")
ask_with_agent right-horse "$T/bin/userbridge" run --via=daemon --br=br0 -- \
    "$T/bin/userbridge" run --via=daemon --br=br1 -- echo "granted br1 too: {ifname}"
check "kept: her password for br0 grants br0 again, unprompted" \
    soon bash -c "[ \$(tail -n +$((before + 1)) '$SYSLOG' | grep -c 'event=grant user=ubalice .*bridge=\"br0\".*polkit=\"yes\"') -eq 2 ]"
check "kept: ...but not br1, which the rules refuse her" \
    grep -q 'access to bridge br1 denied: polkit decides.*kept after a password for another request' "$T/ask.out"
grep -q 'br1 denied' "$T/ask.out" || show_ask
check "kept: ...no tap on br1 reached her command" fails grep -q 'granted br1 too' "$T/ask.out"
check "kept: ...and the record says why" \
    soon grep -q 'event=deny user=ubalice .*bridge="br1".*polkit="no: polkit answered from an authorization it kept' "$SYSLOG"

# An action of another package's that implies ours (its
# org.freedesktop.policykit.imply): polkit judges it too, writing what it
# found into the same reply. ubalice keeps a yes for org.example.x1 or x2
# with her own pkcheck and password, then the same process asks for br1:
# with x2, the reply carried x1's "retains" beside x2's kept id, which
# passed for a new one (a second cold review got br1 so).
rules 'polkit.addRule(function(action, subject) {
    if (action.id == "org.example.x1" || action.id == "org.example.x2") return polkit.Result.AUTH_SELF_KEEP;
    if (action.id != "org.userbridge.use-bridge") return;
    if (action.lookup("bridge") == "br0") return polkit.Result.AUTH_SELF_KEEP;
    return polkit.Result.NO;
});'
for x in x1 x2; do
    with_agent right-horse \
        'pkcheck --action-id "$1" --process $$ --allow-user-interaction >/dev/null 2>&1
         exec "$0" run --via=daemon --br=br1 -- echo "granted br1 too: {ifname}"' "$T/bin/userbridge" org.example.$x
    check "kept, implied: her password for org.example.$x does not grant br1" \
        grep -q 'access to bridge br1 denied: polkit decides.*kept after a password for another request' "$T/ask.out"
    grep -q 'br1 denied' "$T/ask.out" || show_ask
done

# --- An authentication agent that never answers ------------------------------
# polkit waits on the agent registered for the subject for as long as it
# takes, and the bus counts each such question against userbridged's
# connection until polkit answers (dbus-daemon's max_replies_per_connection,
# 128 by default, 2 on this test's bus meanwhile). A question userbridged
# gave up on must be withdrawn (CancelCheckAuthorization): else a user with
# a frozen agent of her own makes the bus refuse every later question, to
# every user.
stop_polkitd
stop_bus
sed -i 's|<auth>EXTERNAL</auth>|&<limit name="max_replies_per_connection">2</limit>|' "$T/dbus.conf"
start_bus
start_polkitd
rules 'polkit.addRule(function(action, subject) {
    if (action.id != "org.userbridge.use-bridge") return;
    if (action.lookup("bridge") == "br1") return polkit.Result.YES;
    return polkit.Result.AUTH_SELF;
});'
frozen=()
for i in 1 2; do
    rm -f "$T/go"
    mkfifo -m 644 "$T/go"
    "${AS_ALICE[@]}" env GO="$T/go" bash -c 'read -r _ <"$GO"; exec "$0" run --ask --via=daemon --br=br0 -- true' \
        "$T/bin/userbridge" >"$T/stuck.$i" 2>&1 &
    frozen+=($!)
    client=$!
    as_alice script -qfec "exec pkttyagent --process $client" /dev/null >/dev/null 2>&1 &
    BACKGROUND+=($!)
    soon grep -q "Registered Authentication Agent for unix-process:$client:" "$SYSLOG"
    pkill -STOP -x pkttyagent  # it never answers polkit
    echo go >"$T/go"
done
wait "${frozen[@]}" || true
check "frozen agent: her two questions went unanswered for 25 s" \
    grep -q 'polkit gave no answer within 25 s' "$T/stuck.2"
# The bus forgets a withdrawn call once polkit has answered it, moments
# after the withdrawal: bob may ask again meanwhile.
bob_granted() { as_bob "$TT" daemon grant $D br1 >"$T/bob.out" 2>&1 && grep -q '^tap=' "$T/bob.out"; }
check "frozen agent: ...and polkit still answers bob's question, by the rules" soon bob_granted
grep -q '^tap=' "$T/bob.out" || echo "    (bob: $(head -n1 "$T/bob.out"))"
pkill -CONT -x pkttyagent || true
pkill -x pkttyagent || true
stop_polkitd
stop_bus
sed -i 's|<limit name="max_replies_per_connection">2</limit>||' "$T/dbus.conf"
start_bus
start_polkitd

# --- polkit frozen: the wait is bounded, and nobody else waits --------------
rules 'polkit.addRule(function(action, subject) {
    if (action.id == "org.userbridge.use-bridge") return polkit.Result.YES;
});'
kill -STOP "$POLKITD_PID"
clients=()
fds=$(ls /proc/$DAEMON_PID/fd | wc -l)
for i in $(seq 6); do
    as_alice "$TT" daemon grant $D br0 >"$T/frozen.$i" 2>&1 &
    clients+=($!)
done
soon daemon_holds $((fds + 6))  # the daemon holds all six, waiting on polkit
# Sixteen other users (uids with no passwd entry need none), one request
# each: no per-uid connection limit is what serves them.
for i in $(seq 16); do
    setpriv --reuid=$((5000 + i)) --regid=$((5000 + i)) --clear-groups -- \
        "$TT" daemon grant $D br2 >"$T/other.$i" 2>&1 &
    clients+=($!)
done
wait_others() { for i in $(seq 16); do grep -q '^tap=' "$T/other.$i" || return 1; done; }
check "16 other users are granted while 6 requests wait for a frozen polkitd" soon wait_others
check "...all of them before any of the 6 is answered" bash -c "! grep -q . $T/frozen.*"
wait_frozen() { for i in $(seq 6); do grep -q 'polkit gave no answer within 3 s' "$T/frozen.$i" || return 1; done; }
check "polkit's silence is a no after 3 s, in every waiting client's error" \
    bash -c "for _ in \$(seq 100); do $(declare -f wait_frozen); T=$T wait_frozen && exit 0; sleep 0.1; done; exit 1"
check "...and in the records" soon grep -q 'event=deny user=ubalice .*polkit="no: polkit gave no answer within 3 s' "$SYSLOG"
check "the daemon lives on" kill -0 "$DAEMON_PID"
kill -CONT "$POLKITD_PID"
wait "${clients[@]}" || true
check "once polkitd runs again, it decides again" grep -q '^tap=' <(as_alice "$TT" daemon grant $D br0)

# --- The subject exits before polkit answers --------------------------------
# The process that connected (the subject) exits while polkit is frozen; a
# child of it holds the connection. Whatever polkit then says about that
# pid, nothing is granted to the child.
kill -STOP "$POLKITD_PID"
as_alice "$TT" daemon grant-orphan $D br0 300 >"$T/orphan.out" 2>&1 &
soon grep -q '^subject=' "$T/orphan.out"
subject=$(sed -n 's/^subject=//p' "$T/orphan.out")
soon fails kill -0 "$subject"  # the subject has exited
kill -CONT "$POLKITD_PID"
check "the subject exited before polkit answered: no tap for the process left holding its connection" \
    soon grep -qE '^denied: access to bridge br0 denied: polkit decides .*: no: ' "$T/orphan.out"
echo "    ($(tail -n1 "$T/orphan.out"))"
check "...no tap is left" test -z "$(taps)"

# --- ...and its pid is reused by a process polkit would allow ----------------
# polkit allows ubbob and refuses ubalice. ubalice's connecting process
# exits while polkit is frozen, and a process of ubbob's takes its pid (the
# test's pid namespace: its next pid is set). The question named ubalice's
# process, by pid, start time and uid: nothing is granted.
rules 'polkit.addRule(function(action, subject) {
    if (action.id != "org.userbridge.use-bridge") return;
    return subject.user == "ubbob" ? polkit.Result.YES : polkit.Result.NO;
});'
kill -STOP "$POLKITD_PID"
as_alice "$TT" daemon grant-orphan $D br0 200 >"$T/reuse.out" 2>&1 &
soon grep -q '^subject=' "$T/reuse.out"
subject=$(sed -n 's/^subject=//p' "$T/reuse.out")
for _ in $(seq 50); do kill -0 "$subject" 2>/dev/null || break; sleep 0.02; done
echo $((subject - 1)) >/proc/sys/kernel/ns_last_pid
setpriv --reuid=$BOB --regid=$BOB --clear-groups -- sleep 5 &
reuser=$!
check "ubbob's process has the pid of ubalice's, which exited" test "$reuser" = "$subject"
kill -CONT "$POLKITD_PID"
check "the reused pid is not the subject: ubalice's connection gets no tap" \
    soon grep -qE '^denied: access to bridge br0 denied: polkit decides .*: no: ' "$T/reuse.out"
echo "    ($(tail -n1 "$T/reuse.out"))"
check "...no tap is left" test -z "$(taps)"
kill "$reuser" 2>/dev/null || true
wait "$reuser" 2>/dev/null || true
rules 'polkit.addRule(function(action, subject) {
    if (action.id == "org.userbridge.use-bridge") return polkit.Result.YES;
});'

# --- A subordinate uid is asked about as its account -------------------------
# The ACL counts a subordinate uid as the account it belongs to (SECURITY.md,
# 29-3); polkit was asked about the uid itself, which names no user: a rule
# refusing ubalice by name let her through as her subordinate uid 300000
# (uid 1 in a user namespace she makes, with newuidmap and /etc/subuid).
if command -v newuidmap >/dev/null && unshare --help | grep -q -- --map-auto; then
    printf 'ubbob:200000:65536\nubalice:300000:65536\nroot:400000:65536\n' >"$T/subids"
    mount --bind "$T/subids" /etc/subuid
    [ -e /etc/subgid ] && mount --bind "$T/subids" /etc/subgid
    stop_daemon
    start_daemon
    rules 'polkit.addRule(function(action, subject) {
    if (action.id != "org.userbridge.use-bridge") return;
    if (subject.user == "ubalice") return polkit.Result.NO;
    return polkit.Result.YES;
});'
    check "subuid: control: ubbob is granted by the rules" grep -q '^tap=' <(as_bob "$TT" daemon grant $D br0)
    refused "subuid: ubalice is refused by name" "polkit decides" as_alice "$TT" daemon grant $D br0
    refused "subuid: ...and so is her subordinate uid, asked about as her" "polkit decides" \
        as_alice unshare --user --map-auto --map-root-user -- \
        setpriv --reuid=1 --regid=1 --keep-groups -- "$TT" daemon grant $D br0
    check "subuid: ...as the record says, with its own uid" \
        soon grep -q 'event=deny .*uid=300000 .*polkit="no' "$SYSLOG"
    # A range of root's (an unprivileged container's, as LXC and Incus
    # give) is not asked about as root, whom polkit authorizes for
    # anything whatever its rules say.
    rules 'polkit.addRule(function(action, subject) {
    if (action.id != "org.userbridge.use-bridge") return;
    return subject.user == "ubbob" ? polkit.Result.YES : polkit.Result.NO;
});'
    check "subuid: control: ubbob is granted by name" grep -q '^tap=' <(as_bob "$TT" daemon grant $D br0)
    refused "subuid: a uid of root's range is refused by the rules, not asked about as root" "polkit decides" \
        setpriv --reuid=400001 --regid=400001 --clear-groups -- "$TT" daemon grant $D br0
    umount /etc/subuid
    [ -e /etc/subgid ] && umount /etc/subgid 2>/dev/null
    rules 'polkit.addRule(function(action, subject) {
    if (action.id == "org.userbridge.use-bridge") return polkit.Result.YES;
});'
else
    echo "skip: subuid: no newuidmap, or unshare without --map-auto"
fi

# --- polkitd stopped, the bus gone: fail closed, then recover ---------------
stop_polkitd
refused "polkitd stopped: refused, saying polkit is not running" "polkit is not running on the system bus" \
    as_alice "$TT" daemon grant $D br0
check "...as the record says" soon grep -q 'event=deny user=ubalice .*polkit="no: polkit is not running' "$SYSLOG"
stop_bus
refused "the system bus gone: refused" "no system bus to ask polkit on" as_alice "$TT" daemon grant $D br0
refused "...and again (no bus to connect to)" "no system bus" as_alice "$TT" daemon grant $D br0
check "...the daemon lives on" kill -0 "$DAEMON_PID"
start_bus
start_polkitd
check "a new bus and polkitd: the daemon connects again and is granted" \
    grep -q '^tap=' <(as_alice "$TT" daemon grant $D br0)

stop_daemon
stop_polkitd
stop_bus
check "no dbus-daemon or polkitd of ours is left" \
    bash -c "! kill -0 $BUS_PID 2>/dev/null && ! kill -0 $POLKITD_PID 2>/dev/null"
finish
