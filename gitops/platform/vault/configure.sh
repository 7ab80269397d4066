#!/bin/sh
# Configure a Vault/OpenBao for the shop; idempotent, safe to re-run on every Argo CD sync.
#
#   1. engines: KV v2 at secret/, transit/, database/
#   2. every policies/*.hcl as the policy named by the file stem
#   3. per namespace in kubernetes-auth-roles.txt: Kubernetes auth at auth/kubernetes-<ns>,
#      and per function ServiceAccount a role of the same name, bound to that account in that
#      namespace only, audience "vault", short-lived tokens
#   4. the Transit keys in transit-keys.txt (created when missing, never rotated here)
#   5. database connections from $DATABASE_DIR/<name>.{url,username,password} (optional):
#      configured once, root password rotated at once so only Vault knows it, and a role
#      <name> whose revocation really drops the user (see README.md, SQLSTATE 2BP01)
#
# Needs: bao (or vault) on PATH, BAO_ADDR, and BAO_TOKEN or BAO_TOKEN_FILE (an operator
# token). It prints names only, never a secret value.
set -eu

: "${BAO_ADDR:?set BAO_ADDR to the Vault/OpenBao address}"
if [ -z "${BAO_TOKEN:-}" ]; then
  : "${BAO_TOKEN_FILE:?set BAO_TOKEN or BAO_TOKEN_FILE}"
  BAO_TOKEN=$(cat "$BAO_TOKEN_FILE")
fi
export BAO_ADDR BAO_TOKEN
CONFIG_DIR=${CONFIG_DIR:-$(dirname "$0")}
POLICIES_DIR=${POLICIES_DIR:-$CONFIG_DIR/policies}
DATABASE_DIR=${DATABASE_DIR:-/etc/vault-database}
KUBERNETES_HOST=${KUBERNETES_HOST:-https://kubernetes.default.svc}
# Vault outside the cluster: the API server's CA; Vault then reviews each client's own JWT
# (every function ServiceAccount needs system:auth-delegator). In a pod, leave it unset.
KUBERNETES_CA_CERT_FILE=${KUBERNETES_CA_CERT_FILE:-}
TOKEN_TTL=${TOKEN_TTL:-1h}
TOKEN_MAX_TTL=${TOKEN_MAX_TTL:-24h}
DATABASE_DEFAULT_TTL=${DATABASE_DEFAULT_TTL:-1h}
DATABASE_MAX_TTL=${DATABASE_MAX_TTL:-24h}

has_mount() { # kind ("secrets" or "auth"), path without slash
  bao "$1" list -format=json | grep -q "\"$2/\""
}

for engine in secret:kv-v2 transit:transit database:database; do
  path=${engine%%:*}
  if ! has_mount secrets "$path"; then
    bao secrets enable -path="$path" "${engine#*:}" >/dev/null
    echo "enabled secrets engine $path/"
  fi
done

# Policies: the ConfigMap flattens folders, so accept both policies/x.hcl and ./x.hcl.
for file in "$POLICIES_DIR"/*.hcl "$CONFIG_DIR"/*.hcl; do
  [ -f "$file" ] || continue
  name=$(basename "$file" .hcl)
  bao policy write "$name" "$file" >/dev/null
  echo "policy $name"
done

configured=" "
grep -v '^[[:space:]]*#' "$CONFIG_DIR/kubernetes-auth-roles.txt" |
  while read -r namespace account policy; do
    [ -n "$namespace" ] || continue
    mount="kubernetes-$namespace"
    case "$configured" in *" $mount "*) ;; *)
      if ! has_mount auth "$mount"; then
        bao auth enable -path="$mount" kubernetes >/dev/null
      fi
      if [ -n "$KUBERNETES_CA_CERT_FILE" ]; then
        bao write "auth/$mount/config" kubernetes_host="$KUBERNETES_HOST" \
          kubernetes_ca_cert="@$KUBERNETES_CA_CERT_FILE" disable_local_ca_jwt=true >/dev/null
      else
        bao write "auth/$mount/config" kubernetes_host="$KUBERNETES_HOST" >/dev/null
      fi
      configured="$configured$mount "
      echo "auth/$mount configured"
    esac
    bao write "auth/$mount/role/$account" \
      bound_service_account_names="$account" \
      bound_service_account_namespaces="$namespace" \
      audience=vault \
      token_policies="$policy" \
      token_ttl="$TOKEN_TTL" \
      token_max_ttl="$TOKEN_MAX_TTL" >/dev/null
    echo "auth/$mount/role/$account -> policy $policy"
  done

grep -v '^[[:space:]]*#' "$CONFIG_DIR/transit-keys.txt" | while read -r key; do
  [ -n "$key" ] || continue
  if ! bao read "transit/keys/$key" >/dev/null 2>&1; then
    bao write -f "transit/keys/$key" >/dev/null
    echo "transit key $key created"
  fi
done

for url_file in "$DATABASE_DIR"/*.url; do
  [ -f "$url_file" ] || continue
  name=$(basename "$url_file" .url)
  if ! bao read "database/config/$name" >/dev/null 2>&1; then
    bao write "database/config/$name" \
      plugin_name=postgresql-database-plugin \
      connection_url="$(cat "$url_file")" \
      username="$(cat "$DATABASE_DIR/$name.username")" \
      password="$(cat "$DATABASE_DIR/$name.password")" \
      allowed_roles="$name" >/dev/null
    bao write -f "database/rotate-root/$name" >/dev/null
    echo "database/config/$name configured, root password rotated"
  fi
  group=$(echo "$name" | sed 's/^shop-[a-z]*-//; s/-/_/g')_app
  bao write "database/roles/$name" \
    db_name="$name" \
    default_ttl="$DATABASE_DEFAULT_TTL" \
    max_ttl="$DATABASE_MAX_TTL" \
    creation_statements="CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE $group; ALTER ROLE \"{{name}}\" SET role = '$group';" \
    revocation_statements="SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}'; REASSIGN OWNED BY \"{{name}}\" TO $group; DROP OWNED BY \"{{name}}\"; DROP ROLE IF EXISTS \"{{name}}\";" \
    >/dev/null
  echo "database/roles/$name (group role $group)"
done
