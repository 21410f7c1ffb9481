#!/usr/bin/env bash
# ./run.sh explore with a bad STEPGRAD_EXPLORE_PORT, and ./run.sh notebook with a bad
# STEPGRAD_NOTEBOOK_PORT (R43 in docs/reliability.md): not a number,
# out of range, in use on 127.0.0.1, privileged for a user: one line on stderr, exit 2, in under a
# second, before anything is installed or built. apt-get, dpkg-query, sudo, meson, ninja and
# python3 are shadowed on PATH by stand-ins that write down that they ran: none may.
# Usage: check_explore_port.sh ROOT (the folder of run.sh); exit 77 = skipped.
set -uo pipefail
root=$(cd "${1:-$(dirname "$0")/../..}" && pwd) || exit 1

failures=0
n=0
tmp=$(mktemp -d)
listener=
trap '[ -n "$listener" ] && kill "$listener" 2>/dev/null; rm -rf -- "$tmp"' EXIT
mkdir -p "$tmp/bin"
for tool in apt-get dpkg-query sudo meson ninja python3; do
    printf '#!/bin/sh\necho %s >>"%s/ran"\nexit 1\n' "$tool" "$tmp" >"$tmp/bin/$tool"
    chmod 755 "$tmp/bin/$tool"
done
chmod 755 "$tmp"  # the stand-ins run for another user too (the privileged case)

# refused DESCRIPTION PORT [RUNNER...]: ./run.sh $mode with PORT in $var ends in one line naming it.
refused() {
    n=$((n + 1))
    local start end took lines why=''
    rm -f "$tmp/ran"
    start=$(date +%s%N)
    env "$var=$2" PATH="$tmp/bin:$PATH" timeout 20 "${@:3}" "$root/run.sh" "$mode" \
        >"$tmp/out" 2>"$tmp/err" </dev/null
    local rc=$?
    end=$(date +%s%N)
    took=$(((end - start) / 1000000))
    lines=$(wc -l <"$tmp/err")
    [ "$rc" -eq 2 ] || why+=" exit $rc, not 2;"
    [ "$lines" -eq 1 ] || why+=" $lines lines on stderr, not 1;"
    grep -q "^run.sh: $var=" "$tmp/err" || why+=" the line does not name the variable;"
    [ -s "$tmp/out" ] && why+=" stdout not empty;"
    [ -e "$tmp/ran" ] && why+=" ran $(sort -u "$tmp/ran" | tr '\n' ' ');"
    [ "$took" -lt 1000 ] || why+=" took $took ms;"
    if [ -z "$why" ]; then echo "ok $n - $mode, $1 ($took ms): $(cat "$tmp/err")"
    else
        echo "not ok $n - $mode, $1:$why"
        sed 's/^/#   /' "$tmp/err" | head -5
        failures=$((failures + 1))
    fi
}

for mode in explore notebook; do
    var=STEPGRAD_$(echo "$mode" | tr a-z A-Z)_PORT
    refused "not a number" abc
    refused "a hex number" 0x1F90
    refused "a signed number" +8000
    refused "a space before it" " 8000"
    refused "a fraction" 8000.5
    refused "zero" 0
    refused "above 65535" 65536
    refused "far above" 99999999999999999999
    refused "negative" -1

    # A port something listens on, on 127.0.0.1.
    port=
    for try in 47301 47302 47303 47304 47305; do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$try") 2>/dev/null; then port=$try; break; fi
    done
    if [ -n "$port" ] && command -v /usr/bin/python3 >/dev/null; then
        /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
open(sys.argv[2], "w").close(); time.sleep(60)' "$port" "$tmp/listening" &
        listener=$!
        for _ in $(seq 100); do [ -e "$tmp/listening" ] && break; sleep 0.05; done
        refused "in use on 127.0.0.1" "$port"
        kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null; listener=; rm -f "$tmp/listening"
    else
        echo "# SKIP in use: no free port among 47301-47305 or no /usr/bin/python3 to listen"
    fi

    # A privileged port for a user who is not root (as nobody when we are root).
    lowest=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
    if [ "$lowest" -le 1 ]; then
        echo "# SKIP privileged: this kernel lets every user bind every port"
    elif [ "$(id -u)" -ne 0 ]; then
        refused "privileged (below $lowest)" 80
    elif setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$root/run.sh" 2>/dev/null; then
        refused "privileged (below $lowest), as nobody" 80 setpriv --reuid=65534 --regid=65534 --clear-groups
    else
        echo "# SKIP privileged: root, and nobody cannot run $root/run.sh"
    fi
done

echo "1..$n"
[ "$failures" -eq 0 ]
