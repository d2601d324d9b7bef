@_spi(Faults) import PeerKit
import OpenSSLPeer
#if canImport(Glibc)
import Glibc
#endif

// A peer that breaks the protocol on purpose, for the runner's tests; never part of a real matrix.
// How it misbehaves comes from the name it is started under (tests link it as peer-<mode>):
//   peer-hang         never prints anything and never exits
//   peer-listenhang   prints a listening line for a port nobody serves, then hangs
//   peer-crash        dies of SIGSEGV at once
//   peer-garbage      prints a line that is not JSON and exits 1
//   peer-flood        writes 8 MiB to stdout and stderr, then exits 1 without a result
//   peer-silent       exits 1 at once, printing nothing
//   peer-forkhang     starts a child that sleeps forever, then hangs itself (the kill must reach both)
//   peer-flaky        crashes the first time it is started with given arguments, and on every later
//                     start becomes the real peer-openssl beside it (for --retries)
// Liars: the OpenSSL peer, with one thing it was asked to do left undone, yet reporting as usual:
//   peer-noverify     the client accepts any server certificate (no chain, no host name check)
//   peer-nosni        the server ignores --alt-*: one certificate whatever name the client asks for
//   peer-noresume     the client keeps no session, so its second connection is a full handshake
//   peer-nokeyupdate  the client ignores --key-update
//   peer-badecho      the server flips one bit of a --transfer at 1 MiB
//   peer-lookalike    the server echoes the line with a no-break space before "pong", which prints
//                     like the space it should be
//   peer-noecho       the server reads the line and never answers it (the client's deadline passes)
//   peer-latetimeout  waits five times its --timeout-ms before it reports a timeout
//   peer-anypsk       the server gives its pre-shared key to any identity the client names
// `capabilities` answers as the real peer-openssl beside it does, under the fault peer's id, so the
// runner accepts it as a library and runs it in every cell peer-openssl could take.
// Under any other name (a stale build product, say) it is no peer at all: a usage error for every
// command, `capabilities` included, so a runner that finds it lists it as unavailable instead of
// running a peer that hangs.
let name = CommandLine.arguments[0].split(separator: "/").last.map(String.init) ?? "peer-hang"
let id = name.hasPrefix("peer-") ? String(name.dropFirst(5)) : name
let arguments = Array(CommandLine.arguments.dropFirst())
let modes: Set<String> = ["hang", "listenhang", "crash", "garbage", "flood", "silent", "forkhang", "flaky",
                          "noverify", "nosni", "noresume", "nokeyupdate", "badecho", "lookalike", "noecho", "latetimeout", "anypsk"]
guard modes.contains(id) else {
    let message = "fault-peer: started as \(name), which names no fault mode (\(modes.sorted().joined(separator: ", "))); link it as peer-<mode>\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

if arguments.first == "capabilities" {
    let directory = String(CommandLine.arguments[0].dropLast(name.count))
    guard let pipe = popen("'\(directory)peer-openssl' capabilities", "r") else { exit(1) }
    var text = ""
    var buffer = [CChar](repeating: 0, count: 65_536)
    while fgets(&buffer, Int32(buffer.count), pipe) != nil { text += String(nulTerminated: buffer) }
    pclose(pipe)
    let identity = #""library":{"id":"\#(id)","name":"Fault (\#(id))","version":"0"}"#
    if let start = text.firstRange(of: #""library":{"#), let end = text[start.upperBound...].firstIndex(of: "}") {
        text.replaceSubrange(start.lowerBound...end, with: identity)
    }
    // Fault peers run one cell per process: they have no worker mode.
    print(text.replacing(#","worker""#, with: ""), terminator: "")
    exit(0)
}
/// Runs the real OpenSSL peer without the options named.
func openSSLPeer(dropping dropped: [String: Int] = [:]) -> Never {
    var kept: [String] = []
    var index = 0
    while index < arguments.count {
        if let values = dropped[arguments[index]] { index += 1 + values; continue }
        kept.append(arguments[index])
        index += 1
    }
    Peer.main(OpenSSLEngine.self, arguments: kept)
}

switch id {
case "noverify":
    PeerFaults.skipVerification = true
    openSSLPeer()
case "nosni":
    openSSLPeer(dropping: ["--alt-name": 1, "--alt-cert": 1, "--alt-key": 1])
case "noresume":
    PeerFaults.forgetSessions = true
    openSSLPeer()
case "nokeyupdate":
    openSSLPeer(dropping: ["--key-update": 0])
case "badecho":
    PeerFaults.corruptTransfer = true
    openSSLPeer()
case "lookalike":
    PeerFaults.lookAlikeEcho = true
    openSSLPeer()
case "noecho":
    PeerFaults.withholdEcho = true
    openSSLPeer()
case "anypsk":
    PeerFaults.acceptAnyPSKIdentity = true
    openSSLPeer()
case "latetimeout":
    var stretched = arguments
    if let index = stretched.firstIndex(of: "--timeout-ms"), index + 1 < stretched.count, let milliseconds = Int(stretched[index + 1]) {
        stretched[index + 1] = String(milliseconds * 5)
    }
    Peer.main(OpenSSLEngine.self, arguments: stretched)
case "flaky":
    // The marker is named after the arguments, which hold this run's certificate paths.
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in arguments.joined(separator: " ").utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    let marker = "/tmp/interop-matrix-flaky-\(hash)"
    if access(marker, F_OK) != 0 {
        close(open(marker, O_CREAT | O_WRONLY, 0o600))
        exit(70)
    }
    unlink(marker)
    let real = String(CommandLine.arguments[0].dropLast("flaky".count)) + "openssl"
    var argv: [UnsafeMutablePointer<CChar>?] = ([real] + arguments).map { strdup($0) } + [nil]
    execv(real, &argv)
    exit(71)
case "flood":
    let line = String(repeating: "x", count: 1023) + "\n"
    for _ in 0..<8192 {
        _ = line.withCString { write(1, $0, strlen($0)) }
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
    exit(1)
case "silent":
    exit(1)
case "forkhang":
    if fork() == 0 {
        while true { sleep(60) }
    }
    while true { sleep(60) }
case "listenhang":
    print(#"{"event":"listening","port":9}"#)
    fflush(nil)
    while true { sleep(60) }
case "crash":
    // A real invalid access, as a buggy peer would make (raise() would return once a handler ran).
    UnsafeMutablePointer<Int>(bitPattern: 16)!.pointee = 1
case "garbage":
    print("this is not json")
    exit(1)
default: // hang
    while true { sleep(60) }
}
