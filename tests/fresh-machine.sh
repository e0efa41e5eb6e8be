#!/usr/bin/env bash
# Proves the README's two commands on a fresh machine: a minimal Debian (debootstrap --variant=minbase) with nothing
# but the .NET SDK (this machine's, mounted read-only at /usr/share/dotnet, with the libraries it needs) and a clean
# clone of the repository. Inside it:
#   1. ./test.sh as a user who cannot sudo must stop before running, with one line naming the packages to install;
#   2. the demo (dotnet run --project src/Meanwhile.Cli -- demo) must run;
#   3. ./test.sh as root must install the programs the tests talk to, then pass.
# Needs root, debootstrap, and the network to Debian's and NuGet's registries. Takes a while (the first run downloads a
# Debian base system, then the peers, then the NuGet packages). Usage: tests/fresh-machine.sh [dir] [test.sh arguments]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${1:-/tmp/meanwhile-fresh}"
shift || true
dotnet_home="$(dirname "$(readlink -f "$(command -v dotnet)")")"

[ -e "$root/etc/debian_version" ] || debootstrap --variant=minbase bookworm "$root"

mounted=()
mount_in() { # mount_in TARGET MOUNT-ARGUMENTS...
  mkdir -p "$root$1"
  mount "${@:2}" "$root$1"
  mounted+=("$root$1")
}
unmount_all() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap unmount_all EXIT
mount_in /proc -t proc proc
mount_in /sys --bind /sys
mount_in /dev --bind /dev
mount_in /dev/pts -t devpts devpts
mount_in /dev/shm -t tmpfs tmpfs
mount_in /usr/share/dotnet --bind "$dotnet_home"
mount -o remount,bind,ro "$root/usr/share/dotnet"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# What is committed, as a fresh clone has it.
rm -rf "$root/src/meanwhile"
git clone -q "$repo" "$root/src/meanwhile"

# The network settings of this machine's kind, which any machine of it has: its local CA certificates (the registries
# are reached through them) and NuGet's revocation mode.
mkdir -p "$root/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true

run() { # run USER COMMAND: a login-less shell with a PATH of the system's directories only
  chroot --userspec="$1" "$root" /usr/bin/env -i HOME="$([ "$1" = root ] && echo /root || echo /home/$1)" TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
    ${NUGET_CERT_REVOCATION_MODE:+NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE} \
    /bin/bash -c "cd /src/meanwhile && $2"
}

echo "== the machine: Debian minbase, the .NET SDK and what it needs to run (ICU, OpenSSL, CA certificates)"
run root "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libicu72 libssl3 ca-certificates >/dev/null && update-ca-certificates >/dev/null && ln -sf /usr/share/dotnet/dotnet /usr/bin/dotnet && dotnet --version"
# (openssl is there already: ca-certificates, which the SDK needs, depends on it.)
for program in nginx curl wrk socat node python3 chromium kill; do
  if run root "type -P $program" >/dev/null; then echo "   $program is already there: not a fresh machine" >&2; fi
done
id tester >/dev/null 2>&1 || chroot "$root" useradd -m tester 2>/dev/null || true

echo "== 1. ./test.sh as a user who cannot sudo"
set +e
line=$(run tester "./test.sh" 2>&1)
code=$?
set -e
echo "   exit $code: $line"
if [ "$code" -ne 1 ] || [ "$(printf '%s\n' "$line" | wc -l)" -ne 1 ] || [[ "$line" != *"apt-get install -y "* ]]; then
  echo "FAILED: expected exit 1 and one line naming the packages and the command" >&2
  exit 1
fi

echo "== 2. the demo: dotnet run --project src/Meanwhile.Cli -- demo"
run root "dotnet run --project src/Meanwhile.Cli -- demo --pages 5 --wait 50ms" | tail -n 20

echo "== 3. ./test.sh $* as root"
run root "./test.sh $*"
echo "== the README's two commands work on a fresh machine"
