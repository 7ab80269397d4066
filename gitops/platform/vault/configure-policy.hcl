# shop-configure: the operator token of the vault-configure Job (configure.sh). It enables the
# per-namespace Kubernetes auth mounts and the secrets engines, writes the policies of
# policies/*.hcl and the roles of kubernetes-auth-roles.txt, creates the Transit keys of
# transit-keys.txt and configures database connections. Not a function policy: it is written
# by hand (README, step 2), never by configure.sh, and not loaded by the local Vault.
path "sys/auth" {
  capabilities = ["read"]
}
path "sys/auth/*" {
  capabilities = ["create", "read", "update", "sudo"]
}
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/mounts/*" {
  capabilities = ["create", "read", "update"]
}
path "sys/policies/acl/*" {
  capabilities = ["create", "read", "update"]
}
path "auth/kubernetes-*" {
  capabilities = ["create", "read", "update"]
}
path "transit/keys/*" {
  capabilities = ["create", "read", "update"]
}
path "database/*" {
  capabilities = ["create", "read", "update"]
}
