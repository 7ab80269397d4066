# payments in shop-prod: read its own secrets, nothing else.
path "secret/data/shop-prod/payments/*" {
  capabilities = ["read"]
}
