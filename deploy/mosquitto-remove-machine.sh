#!/bin/sh
# Revokes one Isaac machine on Mosquitto (run on the Mosquitto host, as root):
#   1. gives its account a new random password and reloads: Mosquitto closes the machine's live
#      connection, and the machine cannot log in again;
#   2. logs in as it and publishes empty retained payloads on its status and Home Assistant
#      discovery topics, so its status and its entities disappear (what isaac-broker does on a
#      revoke);
#   3. deletes the account and its ACL block, and reloads again.
# Messages queued for it stay in its (persistent) session until persistent_client_expiration:
# they are sealed to its keys, so nobody else can open them. (Ending that session with a clean
# login crashed Mosquitto 2.0.11 now and then in our tests, so this script never does.)
#
# usage: mosquitto-remove-machine.sh NAME
# ISAAC_MOSQUITTO_PASSWD / ISAAC_MOSQUITTO_ACL: the files (default /etc/mosquitto/isaac.passwd, .acl)
# ISAAC_MOSQUITTO_PORT: Mosquitto's loopback listener (default 1883)
# ISAAC_MOSQUITTO_RELOAD: how to reload it (default: systemctl reload mosquitto)
set -eu

name=${1:-}
passwd=${ISAAC_MOSQUITTO_PASSWD:-/etc/mosquitto/isaac.passwd}
acl=${ISAAC_MOSQUITTO_ACL:-/etc/mosquitto/isaac.acl}
port=${ISAAC_MOSQUITTO_PORT:-1883}
reload=${ISAAC_MOSQUITTO_RELOAD:-systemctl reload mosquitto}

if ! printf '%s\n' "$name" | grep -Eqx '[a-z0-9][a-z0-9-]{0,31}'; then
  echo "mosquitto-remove-machine: give the machine's name" >&2
  exit 2
fi
if ! grep -qx "user $name" "$acl"; then
  echo "mosquitto-remove-machine: $acl has no block for $name; nothing was changed" >&2
  exit 1
fi

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
printf '%s\n%s\n' "$password" "$password" | mosquitto_passwd "$passwd" "$name" >/dev/null
sh -c "$reload"

# mosquitto_pub reads options from $XDG_CONFIG_HOME/mosquitto_pub: the password stays off the
# command line. The topics are the ones node/daemon/ha/discovery.ts publishes.
printf -- '-h 127.0.0.1\n-p %s\n-u %s\n-P %s\n-i %s\n-q 1\n' "$port" "$name" "$password" "$name" >"$work/mosquitto_pub"
for topic in "isaac/$name/status" \
  "homeassistant/binary_sensor/$name/online/config" \
  "homeassistant/sensor/$name/last_command/config" \
  "homeassistant/sensor/$name/commands_today/config" \
  "homeassistant/sensor/$name/outbox/config"; do
  tries=0
  # the reload is asynchronous: retry until the new password is accepted
  until XDG_CONFIG_HOME=$work mosquitto_pub -c -r -n -t "$topic" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 40 ]; then
      echo "mosquitto-remove-machine: could not log in as $name on 127.0.0.1:$port to clear $topic" >&2
      exit 1
    fi
    sleep 0.25
  done
done

mosquitto_passwd -D "$passwd" "$name"
# the block mosquitto-add-machine.sh appended: `user NAME` and the `topic` lines after it
awk -v user="user $name" '
  $0 == user { skipping = 1; next }
  skipping && /^topic / { next }
  { skipping = 0; print }
' "$acl" >"$work/acl"
cat "$work/acl" >"$acl"
sh -c "$reload"
echo "removed $name: its login, its ACL block, its retained status and Home Assistant entities"
