# payments in shop-dev (and on the local platform, which runs the dev overlay): read its own
# secrets, nothing else. The injector renders secret/data/shop-dev/payments/provider.
path "secret/data/shop-dev/payments/*" {
  capabilities = ["read"]
}
