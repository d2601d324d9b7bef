import BoringSSLPeer
import PeerKit

Peer.main(BoringSSLEngine.self, arguments: Array(CommandLine.arguments.dropFirst()))
