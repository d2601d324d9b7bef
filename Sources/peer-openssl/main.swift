import OpenSSLPeer
import PeerKit

Peer.main(OpenSSLEngine.self, arguments: Array(CommandLine.arguments.dropFirst()))
