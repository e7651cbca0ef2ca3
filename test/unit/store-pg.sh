#!/usr/bin/env bash
# Runs a store test program (its path and arguments follow) against a real
# PostgreSQL server: started here (test/tools/pg-server.py, 127.0.0.1
# only, an unprivileged user, a free port), handed to the program through
# CPPO_TEST_PG_URL and CPPO_TEST_PG_PASSWORD_FILE (tmpstore.h), stopped by
# PID on exit whatever the outcome. The program's TAP passes through.
set -uo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"

peer_start_postgres || exit 1
export CPPO_TEST_PG_URL=$PG_URL CPPO_TEST_PG_PASSWORD_FILE=$PG_PASSWORD_FILE
"$@"
