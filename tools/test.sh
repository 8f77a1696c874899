#!/usr/bin/env bash
# The README's test command, and the one .ci/run calls: every test in AsyncQueue.sln, after making sure this machine
# has what the tests start on loopback. Arguments go to 'dotnet test' (for example: -c Release, --filter Sqlite).
#
#   chromium    the AsyncQueue.Dashboard browser tests drive /usr/bin/chromium with Playwright (no browser download)
#   postgresql  the AsyncQueue.PostgreSql tests start a throwaway server (initdb, pg_ctl) as the 'postgres' user
#   prometheus  the WebUpload metrics and Grafana dashboard tests scrape the sample with a real Prometheus server,
#               and the alert-rule tests run its promtool (check rules, test rules) on docs/monitoring
#   redis-server  the AsyncQueue.Redis tests start throwaway servers (/usr/bin/redis-server) on free loopback ports
#   rabbitmq-server  the AsyncQueue.RabbitMQ tests start a throwaway broker (/usr/lib/rabbitmq/bin/rabbitmq-server) on
#               free loopback ports, with its own node name, epmd, cookie and data in a temp folder
#
# On Debian or Ubuntu the missing packages are installed when this shell may (root, or sudo without a password).
# Otherwise it stops before any test runs, with one message naming the packages and the command that installs them.
# The tests never skip for a missing server: a skipped test looks green and proves nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# An executable file of that name on PATH. (Not 'command -v': bash falls back to a non-executable match.)
on_path() {
  local dir
  local IFS=:
  for dir in $PATH; do
    [ -f "$dir/$1" ] && [ -x "$dir/$1" ] && return 0
  done
  return 1
}

missing_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  { on_path prometheus && on_path promtool; } || missing+=(prometheus)
  [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  echo "${missing[*]}"
}

fail() {
  echo "tools/test.sh: $*" >&2
  echo "tools/test.sh: no test was run." >&2
  exit 1
}

missing=$(missing_packages)
if [ -n "$missing" ]; then
  install="apt-get update && apt-get install -y --no-install-recommends $missing"
  if ! command -v apt-get >/dev/null; then
    fail "the tests need the Debian packages '$missing' (or the same programs from your system's packages: /usr/bin/chromium, initdb under /usr/lib/postgresql/<version>/bin, prometheus and promtool on PATH, /usr/bin/redis-server, /usr/lib/rabbitmq/bin/rabbitmq-server), and this machine has no apt-get to install them."
  elif [ "$(id -u)" -eq 0 ]; then
    echo "tools/test.sh: installing the missing Debian packages: $missing"
    apt-get update && apt-get install -y --no-install-recommends $missing
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "tools/test.sh: installing the missing Debian packages with sudo: $missing"
    sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing
  else
    fail "the tests need the Debian packages '$missing', which are not installed, and this user cannot install them. Install them with: sudo sh -c '$install' (then run tools/test.sh again)."
  fi

  missing=$(missing_packages)
  [ -z "$missing" ] || fail "'$missing' still missing after apt-get install: chromium must be at /usr/bin/chromium, initdb under /usr/lib/postgresql/<version>/bin, prometheus and promtool on PATH, redis-server at /usr/bin/redis-server and rabbitmq-server at /usr/lib/rabbitmq/bin/rabbitmq-server."
fi

# PostgreSQL refuses to run as root, so its test fixture switches to the 'postgres' user with runuser, which only root may do.
if [ "$(id -u)" -ne 0 ] && [ "$(id -un)" != postgres ]; then
  fail "the PostgreSQL tests start their server as the 'postgres' user (runuser), which needs root: run 'sudo tools/test.sh'."
fi

exec dotnet test AsyncQueue.sln "$@"
