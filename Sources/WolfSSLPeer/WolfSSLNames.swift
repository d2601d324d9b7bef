internal import CShimWolfSSL
import PeerKit

/// Certificate names as the protocol writes them.
enum WolfSSLNames {
    /// The subject in RFC 4514 order (most specific RDN first, comma-separated), read entry by
    /// entry: wolfSSL_X509_NAME entries are in certificate order.
    static func subject(of certificate: OpaquePointer) -> String? {
        guard let name = wolfSSL_X509_get_subject_name(certificate) else { return nil }
        var parts: [String] = []
        for index in 0..<wolfSSL_X509_NAME_entry_count(name) {
            guard let entry = wolfSSL_X509_NAME_get_entry(name, index),
                  let object = wolfSSL_X509_NAME_ENTRY_get_object(entry),
                  let shortName = wolfSSL_OBJ_nid2sn(wolfSSL_OBJ_obj2nid(object)),
                  let data = wolfSSL_X509_NAME_ENTRY_get_data(entry),
                  let bytes = wolfSSL_ASN1_STRING_data(data) else { continue }
            let length = Int(wolfSSL_ASN1_STRING_length(data))
            let value = String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
            parts.append("\(String(cString: shortName))=\(value)")
        }
        return parts.isEmpty ? nil : parts.reversed().joined(separator: ",")
    }
}
