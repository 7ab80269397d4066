# payments in shop-staging: read its own secrets, nothing else.
path "secret/data/shop-staging/payments/*" {
  capabilities = ["read"]
}
