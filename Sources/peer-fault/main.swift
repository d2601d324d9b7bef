import PeerKit
#if canImport(Glibc)
import Glibc
#endif

// A peer that breaks the protocol on purpose, for the runner's tests; never part of a real matrix.
// How it misbehaves comes from the name it is started under (tests link it as peer-<mode>):
//   peer-hang         never prints anything and never exits
//   peer-listenhang   prints a listening line for a port nobody serves, then hangs
//   peer-crash        dies of SIGSEGV at once
//   peer-garbage      prints a line that is not JSON and exits 1
//   peer-flaky        crashes the first time it is started with given arguments, and on every later
//                     start becomes the real peer-openssl beside it (for --retries)
// `capabilities` answers like a real peer, under the same id, so the runner accepts it as a library.
let name = CommandLine.arguments[0].split(separator: "/").last.map(String.init) ?? "peer-hang"
let id = name.hasPrefix("peer-") ? String(name.dropFirst(5)) : name
let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "capabilities" {
    print(#"{"event":"capabilities","protocol":1,"library":{"id":"\#(id)","name":"Fault (\#(id))","version":"0"},"versions":["TLS1.0","TLS1.1","TLS1.2","TLS1.3"],"default_versions":["TLS1.2","TLS1.3"],"suites":[],"groups":[],"certificate_types":["rsa2048","rsa3072","ecdsa-p256","ecdsa-p384","ecdsa-p521","ed25519"],"notes":["misbehaves on purpose"]}"#)
    exit(0)
}
switch id {
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
default:
    while true { sleep(60) }
}
