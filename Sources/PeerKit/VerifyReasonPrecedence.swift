extension VerifyReason {
    /// When a library reports several flaws of one certificate at once (GnuTLS status bits, Mbed TLS
    /// flags), the one a result names: the first in this order. Validity period first, then the
    /// name, the usage, the trust and the signature: a certificate made with one flaw (the refusal
    /// scenarios' kind) is named for that flaw whatever else its library noticed. PEER-PROTOCOL.md
    /// states the same order for peers in any language.
    public static let precedence: [VerifyReason] = [.expired, .notYetValid, .nameMismatch, .keyUsage, .untrusted, .signature, .noCertificate, .other]

    /// The first of `reasons` in `precedence`, `other` when there are none.
    public static func first(of reasons: some Sequence<VerifyReason>) -> VerifyReason {
        let found = Set(reasons)
        return precedence.first(where: found.contains) ?? .other
    }
}
