import HandshakeFloor

HandshakeFloor.main()
