import MbedTLSPeer
import PeerKit

Peer.main(MbedTLSEngine.self, arguments: Array(CommandLine.arguments.dropFirst()))
