# orders in shop-prod: encrypt and decrypt with its own Transit key, shop-prod-orders-pii.
path "transit/encrypt/shop-prod-orders-pii" {
  capabilities = ["update"]
}

path "transit/decrypt/shop-prod-orders-pii" {
  capabilities = ["update"]
}

# Card tokens: encrypt only. The ciphertext goes into the database and the events; only
# payments may decrypt it (policies/shop-prod-payments.hcl).
path "transit/encrypt/shop-prod-card-tokens" {
  capabilities = ["update"]
}
