import HandshakeFloor

HandshakeFloor.main(engines: FloorEngines.all)
