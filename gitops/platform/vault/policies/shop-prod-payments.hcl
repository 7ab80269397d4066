# payments in shop-prod: read its own secrets and decrypt card tokens, nothing else.
path "secret/data/shop-prod/payments/*" {
  capabilities = ["read"]
}

# Card tokens that orders encrypted: decrypt only, to charge one (never encrypt, never a key).
path "transit/decrypt/shop-prod-card-tokens" {
  capabilities = ["update"]
}
