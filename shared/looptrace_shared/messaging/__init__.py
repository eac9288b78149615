"""Kafka plumbing: topics, producer, outbox relay, batch consumption, dead letters."""
