# orders in shop-staging: encrypt and decrypt with its own Transit key, shop-staging-orders-pii.
path "transit/encrypt/shop-staging-orders-pii" {
  capabilities = ["update"]
}

path "transit/decrypt/shop-staging-orders-pii" {
  capabilities = ["update"]
}

# Card tokens: encrypt only. The ciphertext goes into the database and the events; only
# payments may decrypt it (policies/shop-staging-payments.hcl).
path "transit/encrypt/shop-staging-card-tokens" {
  capabilities = ["update"]
}
