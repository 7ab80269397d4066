# payments in shop-staging: read its own secrets and decrypt card tokens, nothing else.
path "secret/data/shop-staging/payments/*" {
  capabilities = ["read"]
}

# Card tokens that orders encrypted: decrypt only, to charge one (never encrypt, never a key).
path "transit/decrypt/shop-staging-card-tokens" {
  capabilities = ["update"]
}
