#!/usr/bin/env bash
# Tests of the mock Kafka peer (suite tools), all over TCP on 127.0.0.1:
#   roundtrip  kcat produces 1,000 messages and reads them all back, byte-identical
#   resume     a consumer group commits, restarts and resumes exactly at the
#              committed offset
#   outage     a broker taken down and brought back loses no produced message
# Usage: test-kafka-peer.sh roundtrip|resume|outage   (needs MOCK_KAFKA)
set -euo pipefail
source "$CPPO_SOURCE_ROOT/test/tools/peers.sh"

# Short group timers: the mock stalls a rejoin for session.timeout.ms - 1 s,
# and refuses anything at or under 3 s (test-infrastructure.md, pitfalls).
GROUP_OPTS=(-X auto.offset.reset=earliest -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X reconnect.backoff.max.ms=1000)
work=$PEER_TMP

lines() { # n prefix -> n distinct JSON lines
  for i in $(seq 1 "$1"); do printf '{"n":%d,"tag":"%s","pad":"%s"}\n' "$i" "$2" "x-$((i * 7919))"; done
}

roundtrip() {
  peer_start_mock_kafka --brokers 3 --topic events:3
  lines 1000 rt >"$work/sent"
  kcat -P -b "$KAFKA_BROKERS" -t events -l "$work/sent"
  timeout 60 kcat -C -b "$KAFKA_BROKERS" -t events -o beginning -e -q >"$work/got"
  sort "$work/sent" >"$work/a"; sort "$work/got" >"$work/b"
  cmp "$work/a" "$work/b"
  echo "# roundtrip: $(wc -l <"$work/got") of 1000 messages back, byte-identical"
}

resume() {
  peer_start_mock_kafka --brokers 1 --topic events:2
  lines 100 first | kcat -P -b "$KAFKA_BROKERS" -t events
  timeout 60 kcat -C -b "$KAFKA_BROKERS" -G g1 "${GROUP_OPTS[@]}" -e -q events >"$work/run1"
  lines 50 second | kcat -P -b "$KAFKA_BROKERS" -t events
  timeout 60 kcat -C -b "$KAFKA_BROKERS" -G g1 "${GROUP_OPTS[@]}" -e -q events >"$work/run2"
  timeout 60 kcat -C -b "$KAFKA_BROKERS" -G g1 "${GROUP_OPTS[@]}" -e -q events >"$work/run3"
  [ "$(sort "$work/run1")" = "$(lines 100 first | sort)" ] || { echo "run 1 did not read the first 100"; exit 1; }
  [ "$(sort "$work/run2")" = "$(lines 50 second | sort)" ] || { echo "run 2 did not resume at the committed offset"; exit 1; }
  [ ! -s "$work/run3" ] || { echo "run 3 read $(wc -l <"$work/run3") already committed messages"; exit 1; }
  echo "# resume: 100, then exactly the 50 new, then 0"
}

outage() {
  peer_start_mock_kafka --brokers 3 --topic events:3
  mkfifo "$work/in"
  # The producer exists before the outage; deliveries may wait up to 15 s.
  kcat -P -b "$KAFKA_BROKERS" -t events -X message.timeout.ms=15000 \
    -X reconnect.backoff.max.ms=1000 <"$work/in" &
  producer=$!
  peer_track "$producer"
  exec {w}>"$work/in"
  lines 100 before >&$w
  sleep 1
  [ "$(kafka_control 'down 1')" = ok ]
  lines 100 during >&$w
  sleep 2
  [ "$(kafka_control 'up 1')" = ok ]
  lines 100 after >&$w
  exec {w}>&-
  wait "$producer"
  timeout 60 kcat -C -b "$KAFKA_BROKERS" -t events -o beginning -e -q >"$work/got"
  n=$(sort -u "$work/got" | wc -l)
  [ "$n" -eq 300 ] || { echo "expected 300 distinct messages, got $n"; exit 1; }
  echo "# outage: 300 of 300 messages delivered across a broker down/up"
}

"$1"
