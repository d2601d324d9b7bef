import PeerKit
#if canImport(Glibc)
import Glibc
#endif

// A peer that breaks the protocol on purpose, for the runner's tests. The first argument says how:
//   hang           never prints anything and never exits
//   listen-hang    prints a listening line for a port nobody serves, then hangs
//   crash          dies of SIGSEGV at once
//   garbage        prints a line that is not JSON and exits 1
// `capabilities` answers like a real peer so the runner accepts it as a library.
let arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first ?? ""
switch mode {
case "capabilities":
    print(#"{"event":"capabilities","protocol":1,"library":{"id":"fault","name":"Fault","version":"0"},"versions":["TLS1.2","TLS1.3"],"default_versions":["TLS1.2","TLS1.3"],"suites":[],"groups":[],"certificate_types":["rsa2048","ecdsa-p256"],"notes":["misbehaves on purpose"]}"#)
default:
    let behaviour = getenv("INTEROP_FAULT").map { String(cString: $0) } ?? "hang"
    switch behaviour {
    case "listen-hang":
        print(#"{"event":"listening","port":9}"#)
        fflush(nil)
        while true { sleep(60) }
    case "crash":
        raise(SIGSEGV)
    case "garbage":
        print("this is not json")
        exit(1)
    default:
        while true { sleep(60) }
    }
}
