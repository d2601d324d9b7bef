/// Misbehaviour on purpose, for the runner's own tests: `fault-peer` sets these to play a peer that
/// lies (accepts any certificate, forgets sessions, corrupts data) so the tests can show the harness
/// catches it. No real peer sets them; they are behind an SPI so no ordinary import sees them.
@_spi(Faults) public enum PeerFaults {
    /// The client verifies neither the chain nor the host name.
    nonisolated(unsafe) public static var skipVerification = false
    /// The client keeps no session, so its second connection cannot resume.
    nonisolated(unsafe) public static var forgetSessions = false
    /// The server flips one byte of the transfer it echoes.
    nonisolated(unsafe) public static var corruptTransfer = false
    /// The server echoes the line with a suffix that looks like the right one and is not (a
    /// no-break space before `pong`).
    nonisolated(unsafe) public static var lookAlikeEcho = false
    /// The server reads the line and never echoes it, waiting for the client's close_notify instead.
    nonisolated(unsafe) public static var withholdEcho = false
    /// The server hands out its pre-shared key whatever identity the client sent.
    nonisolated(unsafe) public static var acceptAnyPSKIdentity = false
}
