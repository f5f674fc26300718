# hardening: production-like sizing
variable "stage" {}
variable "service" {}

output "environment" {
  value = "${var.service}-${var.stage} (hardening sizing: 3 instances)"
}
