module jes.dev/tests/gotemplate

go 1.22
