import GnuTLSPeer
import PeerKit

Peer.main(GnuTLSEngine.self, arguments: Array(CommandLine.arguments.dropFirst()))
