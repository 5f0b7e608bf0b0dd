#!/usr/bin/env bash
# Start the services the tests talk to (PostgreSQL with PostGIS, NATS JetStream, Mosquitto) when they are
# down, and install PostGIS when the server lacks it. Safe to run again: it only acts on what is missing.
set -euo pipefail

up() { timeout 1 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }
wait_for() { for _ in $(seq 1 60); do up "$1" && return 0; sleep 0.5; done; echo "$2 did not start on port $1" >&2; return 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! up 5432; then
  echo "starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  wait_for 5432 PostgreSQL
fi

pg_major=$(psql -h 127.0.0.1 -U postgres -Atc "show server_version_num" postgres | cut -c1-2)
if [ "$(psql -h 127.0.0.1 -U postgres -Atc "select count(*) from pg_available_extensions where name='postgis'" postgres)" = 0 ]; then
  echo "installing PostGIS for PostgreSQL $pg_major"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "postgresql-${pg_major}-postgis-3" >/dev/null
fi

if ! up 4222; then
  echo "starting NATS with JetStream"
  as_root mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for 4222 NATS
fi

if ! up 1883; then
  echo "starting Mosquitto"
  as_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
  wait_for 1883 Mosquitto
fi
echo "services ready: PostgreSQL+PostGIS :5432, NATS JetStream :4222, Mosquitto :1883"
