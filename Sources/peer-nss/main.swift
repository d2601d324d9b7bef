import NSSPeer
import PeerKit

Peer.main(NSSEngine.self, arguments: Array(CommandLine.arguments.dropFirst()))
