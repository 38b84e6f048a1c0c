#!/usr/bin/env bash
# PostgreSQL's server binaries for the study tests against a real server
# (tests/training/test_study_workers.py starts a throwaway cluster with them; tests/postgres.py).
# Installs Debian's `postgresql` package when no initdb is there and apt-get can run as root
# (non-interactive: no prompt); otherwise says why, and those tests skip with the same hint.
# Idempotent (a second run finds the binaries and does nothing); never fails the build.
set -u
found=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -n 1)
found=${found:-$(command -v initdb)}
if [ -n "$found" ]; then
    echo "install_postgres: PostgreSQL server binaries found ($found): nothing to install"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install_postgres: no PostgreSQL server binaries, and apt-get cannot run here (not root," \
         "or not Debian): the PostgreSQL study test will skip" >&2
    exit 0
fi
echo "install_postgres: apt-get update; apt-get install postgresql (for the study test against" \
     "a real server; about 15 s)"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; } \
        >"$log" 2>&1; then
    echo "install_postgres: installed $(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -n 1)"
else
    tail -n 5 "$log" >&2
    echo "install_postgres: apt-get install postgresql failed (above): the PostgreSQL study test" \
         "will skip" >&2
fi
rm -f "$log"
exit 0
