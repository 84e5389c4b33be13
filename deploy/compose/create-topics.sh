#!/bin/sh
# Creates the StreamSeq topics on a fresh cluster (idempotent: existing topics are left alone).
# Environment: BOOTSTRAP_SERVERS, TOPIC_PARTITIONS, INPUT_TOPIC, OUTPUT_TOPICS (space-separated), DEAD_LETTER_TOPIC,
# CHANGELOG_TOPIC.
set -eu
topics=/opt/kafka/bin/kafka-topics.sh

create() {
  name=$1
  shift
  "$topics" --bootstrap-server "$BOOTSTRAP_SERVERS" --create --if-not-exists --topic "$name" --partitions "$TOPIC_PARTITIONS" --replication-factor 1 "$@"
}

create "$INPUT_TOPIC"
for topic in $OUTPUT_TOPICS; do
  create "$topic"
done
create "$DEAD_LETTER_TOPIC" --config retention.ms=1209600000

# The state changelog: compacted (the latest state per stream and the offset markers are all a restore needs),
# partitioned exactly like the input. min.compaction.lag.ms keeps recent history readable for debugging; a small
# segment lets compaction start within the hour.
create "$CHANGELOG_TOPIC" \
  --config cleanup.policy=compact \
  --config min.compaction.lag.ms=60000 \
  --config segment.ms=3600000 \
  --config min.cleanable.dirty.ratio=0.1 \
  --config delete.retention.ms=86400000

"$topics" --bootstrap-server "$BOOTSTRAP_SERVERS" --describe --topic "$CHANGELOG_TOPIC"
