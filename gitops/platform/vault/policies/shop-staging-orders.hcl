# orders in shop-staging: encrypt and decrypt with its own Transit key, shop-staging-orders-pii.
path "transit/encrypt/shop-staging-orders-pii" {
  capabilities = ["update"]
}

path "transit/decrypt/shop-staging-orders-pii" {
  capabilities = ["update"]
}
