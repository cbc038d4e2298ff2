#!/bin/sh
# Gives one Isaac machine an account on Mosquitto (run on the Mosquitto host, as root):
#   - a random password in the password file (mosquitto_passwd),
#   - the machine's block in the ACL file (the template at the end of mosquitto.acl),
#   - the password in NAME.password (mode 0600) for the machine's
#     `isaac-node init|join ... --broker-password-file NAME.password`.
# Then reload Mosquitto (systemctl reload mosquitto, or kill -HUP its pid).
#
# usage: mosquitto-add-machine.sh NAME [PASSWORD_FILE_OUT]
# ISAAC_MOSQUITTO_PASSWD / ISAAC_MOSQUITTO_ACL override /etc/mosquitto/isaac.passwd / isaac.acl.
set -eu

name=${1:-}
out=${2:-./$name.password}
passwd=${ISAAC_MOSQUITTO_PASSWD:-/etc/mosquitto/isaac.passwd}
acl=${ISAAC_MOSQUITTO_ACL:-/etc/mosquitto/isaac.acl}

if ! printf '%s\n' "$name" | grep -Eqx '[a-z0-9][a-z0-9-]{0,31}'; then
  echo "mosquitto-add-machine: give a machine name (a-z, 0-9, -; at most 32; as in isaac invite NAME)" >&2
  exit 2
fi
if [ "$name" = homeassistant ]; then
  echo "mosquitto-add-machine: homeassistant is Home Assistant's login; pick another machine name" >&2
  exit 2
fi
if grep -qx "user $name" "$acl"; then
  echo "mosquitto-add-machine: $acl already has $name; remove it first (mosquitto-remove-machine.sh $name)" >&2
  exit 1
fi
template=$(sed -n '/^# user MACHINE$/,$ s/^# //p' "$acl")
if [ -z "$template" ]; then
  echo "mosquitto-add-machine: $acl has no '# user MACHINE' template; install deploy/mosquitto.acl as it ships" >&2
  exit 1
fi

umask 077
password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
if [ ! -f "$passwd" ]; then
  : >"$passwd"
  # Mosquitto reads it after dropping to its own user
  chown mosquitto: "$passwd" 2>/dev/null || true
fi
# the password goes through a pipe, never on a command line
printf '%s\n%s\n' "$password" "$password" | mosquitto_passwd "$passwd" "$name" >/dev/null
printf '%s\n' "$password" >"$out"
printf '\n%s\n' "$(printf '%s\n' "$template" | sed "s/MACHINE/$name/")" >>"$acl"
echo "added $name to $passwd and $acl; its password is in $out"
echo "next: reload mosquitto, then on $name: isaac-node init|join ... --broker-password-file $(basename "$out")"
