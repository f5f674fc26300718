#!/bin/sh
echo "smoke test of carts in dev"
