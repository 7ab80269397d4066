"""CI/CD pipelines defined in Python with Hera; rendered YAML lands in gitops/."""
