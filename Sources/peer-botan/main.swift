import BotanPeer
import PeerKit

Peer.main(BotanEngine.self, arguments: Array(CommandLine.arguments.dropFirst()))
