#!/usr/bin/env bash
# smtp-sink.sh — an SMTP server for tests: postfix's smtp-sink on
# 127.0.0.1, on a free port, dumping every received message to its own file.
#
#   smtp-sink.sh DIR [--rcpt-4xx] [--data-5xx] [--auth-5xx] [--no-auth] [--data-delay S] [--port N]
#
# Prints "ready PORT" once it accepts connections. Each message lands in DIR
# as one file (names are time-based with a random suffix, so messages in the
# same second never collide), starting with X-Client-Addr, X-Helo-Args,
# X-Mail-Args and one X-Rcpt-Args line per recipient, then the message
# exactly as received but with LF line ends (CRLF stored as LF). A file
# appears while its message is still arriving (wait for the sender's
# acknowledgement before reading it), and is removed when the session
# breaks off before the end of the message. --rcpt-4xx answers
# RCPT with a 4xx, --data-5xx answers DATA with a 5xx, --auth-5xx refuses
# every AUTH with a 5xx (a client with credentials gets "login denied";
# smtp-sink announces AUTH PLAIN LOGIN but answers it 250, which clients
# take as a refusal too), --no-auth announces no AUTH (a client with
# credentials then sends without logging in), --data-delay S waits
# S seconds (a whole number) before answering each DATA (a slow server;
# smtp-sink keeps serving the other connections meanwhile; a delay on "."
# with -W would stall them all). --port N listens on that port instead of a
# free one (a test that starts the server late picks it beforehand). Stops
# (and stops smtp-sink) on SIGTERM/SIGINT.
set -euo pipefail

dir=${1:?usage: smtp-sink.sh DIR [--rcpt-4xx] [--data-5xx] [--auth-5xx] [--no-auth] [--data-delay S] [--port N]}
shift
opts=()
fixed_port=
while [ $# -gt 0 ]; do
  case "$1" in
  --rcpt-4xx) opts+=(-r RCPT) ;;
  --data-5xx) opts+=(-f DATA) ;;
  --auth-5xx) opts+=(-f AUTH) ;;
  --no-auth) opts+=(-a) ;;
  --data-delay) opts+=(-w "${2:?--data-delay needs a number of seconds}"); shift ;;
  --port) fixed_port=${2:?--port needs a number}; shift ;;
  *) echo "smtp-sink.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

mkdir -p "$dir"
user=()
if [ "$(id -u)" -eq 0 ]; then
  # smtp-sink refuses to run as root; it drops to this user, who must be
  # able to write the dumps.
  chmod 0777 "$dir"
  user=(-u nobody)
fi

for attempt in 1 2 3 4 5; do
  port=${fixed_port:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
  # stdout carries only our ready line
  /usr/sbin/smtp-sink "${user[@]}" "${opts[@]}" -d "$dir/%Y%m%d%H%M%S." "127.0.0.1:$port" 100 >/dev/null &
  child=$!
  trap 'kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
  for _ in $(seq 1 50); do # at most 5 s
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "ready $port"
      wait "$child" || true
      exit 0
    fi
    kill -0 "$child" 2>/dev/null || break
    sleep 0.1
  done
  kill "$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
done
echo "smtp-sink.sh: could not start smtp-sink" >&2
exit 1
