import Testing
@testable import PeerKit

@Suite("One verify_reason when a library reports several flaws")
struct VerifyReasonTests {
    @Test("the first in the documented order wins", arguments: [
        ([VerifyReason.untrusted, .expired], VerifyReason.expired),
        ([.signature, .untrusted], .untrusted),
        ([.untrusted, .keyUsage, .nameMismatch], .nameMismatch),
        ([.keyUsage, .signature], .keyUsage),
        ([.notYetValid, .nameMismatch], .notYetValid),
        ([.other, .signature], .signature),
        ([.other], .other),
        ([], .other),
    ])
    func precedence(reasons: [VerifyReason], named: VerifyReason) {
        #expect(VerifyReason.first(of: reasons) == named)
        #expect(VerifyReason.first(of: reasons.reversed()) == named, "order of the input does not matter")
    }

    @Test("every reason has its place in the order, once")
    func complete() {
        #expect(Set(VerifyReason.precedence) == Set(VerifyReason.allCases))
        #expect(VerifyReason.precedence.count == VerifyReason.allCases.count)
    }

    @Test("setting a reason marks the error as a verification refusal, reported at stage verify only")
    func marksVerification() {
        var error = TLSError(libraryCode: "0x00000402", message: "expired")
        #expect(!error.isVerification)
        error.verifyReason = .expired
        #expect(error.isVerification)
        #expect(PeerFailure(stage: .verify, error: error).json.serialized.contains(#""verify_reason":"expired""#))
        #expect(PeerFailure(stage: .handshake, error: error).json.serialized.contains(#""verify_reason":null"#))
    }
}
