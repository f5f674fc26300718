# dev: a small, cheap environment
variable "stage" {}
variable "service" {}

output "environment" {
  value = "${var.service}-${var.stage} (dev sizing: 1 instance)"
}
