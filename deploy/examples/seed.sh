#!/bin/sh
# Applies the example jobs once the API answers (docker-compose "seed" service).
set -eu
API="${PINK_API:-http://scheduler-1:8080}"
until curl -sf "$API/readyz" >/dev/null; do sleep 1; done
curl -s -X POST "$API/api/v1/groups" -H 'Content-Type: application/json' \
  -d '{"name":"batch","description":"batch workers"}' || true
for f in /examples/jobs/*.json; do
  curl -s -X POST "$API/api/v1/jobs" -H 'Content-Type: application/json' --data @"$f"
done
