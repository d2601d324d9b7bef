import PeerKit
import WolfSSLPeer

Peer.main(WolfSSLEngine.self, arguments: Array(CommandLine.arguments.dropFirst()))
