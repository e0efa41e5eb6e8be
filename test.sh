#!/usr/bin/env bash
# The README's test command. The tests talk to real programs (nginx, curl, wrk, socat, openssl, node, python3,
# chromium...): this installs the missing ones from Debian's packages when it runs as root or may use sudo without a
# password, then runs `dotnet test` with the arguments given (MEANWHILE_REACTOR=portable ./test.sh runs the suite on
# the portable reactor). Otherwise it stops before running, with one line naming the packages and the command that
# installs them. .ci/run calls it too.
set -euo pipefail
cd "$(dirname "$0")"

# Debian puts nginx (and setpriv's peers) in /usr/sbin and /sbin, which a user's PATH often lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# Every program the tests start (or, for a path, the library they load), with the Debian package that has it. Basic tools (sh, cat, sleep, yes, mkfifo,
# find, grep) come with every Debian; these do not.
peers=(
  nginx:nginx curl:curl wrk:wrk socat:socat openssl:openssl node:nodejs python3:python3 chromium:chromium
  kill:procps taskset:util-linux prlimit:util-linux setpriv:util-linux useradd:passwd
  /usr/lib/python3/dist-packages/websockets:python3-websockets /usr/share/nodejs/ws:node-ws
)

missing_packages() {
  local peer packages=()
  for peer in "${peers[@]}"; do
    # type -P: a program file, not a shell builtin (bash's kill is one; the tests start /bin/kill).
    case "${peer%%:*}" in
      /*) [ -e "${peer%%:*}" ] || packages+=("${peer#*:}") ;;
      *) type -P "${peer%%:*}" >/dev/null 2>&1 || packages+=("${peer#*:}") ;;
    esac
  done
  [ ${#packages[@]} -eq 0 ] || printf '%s\n' "${packages[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//'
}

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: dotnet is not on the PATH: install the .NET 10 SDK (https://dot.net), then run ./test.sh again" >&2
  exit 1
fi

missing=$(missing_packages)
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "test.sh: the tests need Debian packages that are not installed ($missing); install them with: sudo apt-get install -y $missing" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: the tests need $missing (Debian package names) and this machine has no apt-get: install them with its package manager" >&2
    exit 1
  fi
  echo "test.sh: installing $missing" >&2
  # shellcheck disable=SC2086 # one word per package
  if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; }; then
    echo "test.sh: apt-get could not install $missing; install them with: sudo apt-get install -y $missing" >&2
    exit 1
  fi
  still=$(missing_packages)
  if [ -n "$still" ]; then
    echo "test.sh: still missing after apt-get: $still" >&2
    exit 1
  fi
fi

exec dotnet test "$@"
