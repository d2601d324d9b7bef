//go:build go1.26

package main

import "crypto/tls"

// Go 1.26 on: the SecP256r1MLKEM768 (0x11EB) and SecP384r1MLKEM1024 (0x11ED) hybrids too
// (crypto/tls defaults.go, curvePreferenceOrder). Its pure MLKEM1024 is left out: it is off by
// default and no other library here offers it.
var addedGroups = map[string]tls.CurveID{
	"X25519MLKEM768":     tls.X25519MLKEM768,
	"SecP256r1MLKEM768":  tls.SecP256r1MLKEM768,
	"SecP384r1MLKEM1024": tls.SecP384r1MLKEM1024,
}
var groupOrder = []string{"X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024", "x25519", "secp256r1", "secp384r1", "secp521r1"}
