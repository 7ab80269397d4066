# orders in shop-prod: encrypt and decrypt with its own Transit key, shop-prod-orders-pii.
path "transit/encrypt/shop-prod-orders-pii" {
  capabilities = ["update"]
}

path "transit/decrypt/shop-prod-orders-pii" {
  capabilities = ["update"]
}
