#!/usr/bin/env bash
# PostgreSQL's server binaries for the study tests against a real server
# (tests/training/test_study_workers.py starts a throwaway cluster with them; tests/postgres.py).
# Installs Debian's `postgresql` package when no initdb is there and apt-get can run as root;
# otherwise says why, and those tests skip with the same hint. Never fails the build.
set -u
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install_postgres: no PostgreSQL server binaries, and apt-get cannot run here (not root," \
         "or not Debian): the PostgreSQL study test will skip" >&2
    exit 0
fi
echo "install_postgres: apt-get install postgresql (for the study test against a real server)" >&2
export DEBIAN_FRONTEND=noninteractive
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; } >/dev/null 2>&1 \
    || echo "install_postgres: apt-get install postgresql failed: the PostgreSQL study test will skip" >&2
exit 0
