//go:build go1.24 && !go1.26

package main

import "crypto/tls"

// Go 1.24 and 1.25: the X25519MLKEM768 hybrid (0x11EC) too, preferred.
var addedGroups = map[string]tls.CurveID{"X25519MLKEM768": tls.X25519MLKEM768}
var groupOrder = []string{"X25519MLKEM768", "x25519", "secp256r1", "secp384r1", "secp521r1"}
