import Testing
@testable import PeerKit

@Suite("The IANA group and signature-scheme registries")
struct NamedGroupTests {
    @Test("the hybrid post-quantum code points are named as IANA names them")
    func hybridGroups() {
        #expect(NamedGroup.byCode[0x11EB] == "SecP256r1MLKEM768")
        #expect(NamedGroup.byCode[0x11EC] == "X25519MLKEM768")
        #expect(NamedGroup.byCode[0x11ED] == "SecP384r1MLKEM1024")
        #expect(NamedGroup.byCode[0x6399] == "X25519Kyber768Draft00")
        #expect(NamedGroup.code(of: "X25519MLKEM768") == 0x11EC)
    }

    @Test("a code point the registry lacks is shown as its number and read back, never dropped")
    func unknownCodePoint() {
        #expect(NamedGroup.name(code: 0x7A7A) == "0x7A7A")
        #expect(NamedGroup.code(of: "0x7A7A") == 0x7A7A)
        #expect(NamedGroup.code(of: "not-a-group") == nil)
        #expect(SignatureScheme.name(code: 0x0A0A) == "0x0A0A")
        #expect(SignatureScheme.name(code: 0x0905) == "mldsa65")
    }

    @Test("each group applies only to the versions it is defined for",
          arguments: [("x25519", TLSVersion.tls12, true), ("x25519", .tls13, true), ("secp256k1", .tls13, false),
                      ("brainpoolP256r1", .tls12, true), ("brainpoolP256r1", .tls13, false), ("brainpoolP256r1tls13", .tls12, false),
                      ("X25519MLKEM768", .tls12, false), ("X25519MLKEM768", .tls13, true), ("ffdhe2048", .tls12, false),
                      ("ffdhe2048", .tls13, true), ("sect163k1", .tls12, true), ("MLKEM768", .tls13, true)])
    func versions(group: String, version: TLSVersion, applies: Bool) {
        #expect(NamedGroup.applies(group, to: version) == applies)
    }

    @Test("groups: all leaves out national groups and explicit-curve placeholders, which need their own suites")
    func crossedByAll() {
        #expect(!NamedGroup.crossedByAll("GC256B"))
        #expect(!NamedGroup.crossedByAll("curveSM2"))
        #expect(!NamedGroup.crossedByAll("arbitrary_explicit_prime_curves"))
        #expect(NamedGroup.crossedByAll("X25519MLKEM768"))
        #expect(NamedGroup.crossedByAll("0x7A7A"))
    }

    @Test("the registry has one name per code point, in code order, unknown names last")
    func ordering() {
        #expect(Set(NamedGroup.allNames).count == NamedGroup.registry.count)
        #expect(NamedGroup.ordered(["0x7A7A", "x25519", "secp256r1"]) == ["secp256r1", "x25519", "0x7A7A"])
    }
}
