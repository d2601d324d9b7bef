module interop-matrix/peer-gotls

go 1.19
