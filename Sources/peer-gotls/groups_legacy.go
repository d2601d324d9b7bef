//go:build !go1.24

package main

import "crypto/tls"

// Before Go 1.24: elliptic curves only, in this preference.
var addedGroups = map[string]tls.CurveID{}
var groupOrder = []string{"x25519", "secp256r1", "secp384r1", "secp521r1"}
