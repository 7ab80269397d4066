# orders in shop-dev (and on the local platform): encrypt and decrypt customer e-mail with the
# Transit key orders-pii. No key read, no rotate, no rewrap: the key never leaves Vault and
# rotation is an operator's job (see README.md).
path "transit/encrypt/orders-pii" {
  capabilities = ["update"]
}

path "transit/decrypt/orders-pii" {
  capabilities = ["update"]
}

# Card tokens: encrypt only. The ciphertext goes into the database and the events; only
# payments may decrypt it (policies/payments.hcl).
path "transit/encrypt/card-tokens" {
  capabilities = ["update"]
}
