# payments in shop-dev (and on the local platform, which runs the dev overlay): read its own
# secrets and decrypt card tokens, nothing else. The injector renders
# secret/data/shop-dev/payments/provider.
path "secret/data/shop-dev/payments/*" {
  capabilities = ["read"]
}

# Card tokens that orders encrypted: decrypt only, to charge one (never encrypt, never a key).
path "transit/decrypt/card-tokens" {
  capabilities = ["update"]
}
