// Internal to CShimBotan: the Policy and Credentials_Manager subclasses an endpoint holds, and
// the helpers the shim's files share. Not part of the C API (include/CShimBotan.h).
#ifndef CSHIM_BOTAN_ENDPOINT_H
#define CSHIM_BOTAN_ENDPOINT_H

#include "CShimBotan.h"

#include <botan/auto_rng.h>
#include <botan/certstor.h>
#include <botan/data_src.h>
#include <botan/dl_group.h>
#include <botan/pkcs8.h>
#include <botan/tls_client.h>
#include <botan/tls_exceptn.h>
#include <botan/tls_messages.h>
#include <botan/tls_server.h>
#include <botan/tls_session_manager.h>
#include <botan/version.h>
#include <botan/x509path.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace Botan;


namespace cshim_botan {

inline void copy_text(char *out, size_t capacity, const std::string &text) {
    if (capacity == 0) return;
    size_t n = std::min(capacity - 1, text.size());
    std::memcpy(out, text.data(), n);
    out[n] = 0;
}

inline void clear_error(CShimBotan_Error *error) {
    if (!error) return;
    std::memset(error, 0, sizeof(*error));
    error->alert_sent = -1;
    error->alert_received = -1;
    error->verify_overall = -1;
}

inline void set_error(CShimBotan_Error *error, const char *kind, const std::string &message) {
    if (!error) return;
    copy_text(error->message, sizeof(error->message), message);
    copy_text(error->kind, sizeof(error->kind), kind);
}

/// A PEM file's certificates, in file order.
inline std::vector<X509_Certificate> load_chain(const std::string &path) {
    DataSource_Stream source(path);
    std::vector<X509_Certificate> chain;
    while (!source.end_of_data()) {
        try {
            chain.push_back(X509_Certificate(source));
        } catch (std::exception &) {
            // What follows the last certificate (a line end) is no certificate: Botan reads
            // "Source was empty" there.
            if (chain.empty()) throw;
            break;
        }
    }
    if (chain.empty()) throw Decoding_Error("no certificate in " + path);
    return chain;
}

/// The policy: Botan's default Policy except what the request forces.
class PeerPolicy final : public TLS::Policy {
  public:
    bool tls10 = false, tls11 = false, tls12 = true;
    bool lifted = false;
    std::optional<uint16_t> suite;
    std::string suite_cipher, suite_mac, suite_kex, suite_sig;
    std::vector<TLS::Group_Params> groups;
    bool request_client_cert = false, require_client_cert = false;
    /// `--psk`: the key exchanges of RFC 4279 and 5489 join the default Policy's, which leaves
    /// them out ("PSK", "DHE_PSK", "ECDHE_PSK" are commented out in Policy::allowed_key_exchange_methods).
    bool pre_shared_key = false;

    // Botan refuses every chain without OCSP or CRL data otherwise; the peers check none.
    bool require_cert_revocation_info() const override { return false; }
    bool allow_tls10() const override { return tls10; }
    bool allow_tls11() const override { return tls11; }
    bool allow_tls12() const override { return tls12; }
    bool allow_dtls10() const override { return false; }
    bool allow_dtls12() const override { return false; }

    std::vector<std::string> allowed_ciphers() const override { return widened(TLS::Policy::allowed_ciphers(), suite_cipher); }
    std::vector<std::string> allowed_macs() const override { return widened(TLS::Policy::allowed_macs(), suite_mac); }
    std::vector<std::string> allowed_key_exchange_methods() const override {
        std::vector<std::string> methods = widened(TLS::Policy::allowed_key_exchange_methods(), suite_kex);
        if (pre_shared_key) {
            for (const char *method : {"ECDHE_PSK", "DHE_PSK", "PSK"}) methods = widened(methods, method);
        }
        // Forced groups mean a key exchange over one of them: CECPQ1 (NewHope with X25519, in the
        // default Policy) uses none of the groups, so it goes unless the suite itself is CECPQ1.
        if (!groups.empty() && suite_kex != "CECPQ1") methods.erase(std::remove(methods.begin(), methods.end(), "CECPQ1"), methods.end());
        return methods;
    }
    std::vector<std::string> allowed_signature_methods() const override {
        // IMPLICIT (RSA key transport) too: Policy::ciphersuite_list checks every suite's
        // sig_algo() against this list, signing or not.
        return widened(TLS::Policy::allowed_signature_methods(), suite_sig);
    }
    std::vector<std::string> allowed_signature_hashes() const override {
        return widened(TLS::Policy::allowed_signature_hashes(), lifted ? "SHA-1" : "");
    }
    std::vector<TLS::Group_Params> key_exchange_groups() const override {
        return groups.empty() ? TLS::Policy::key_exchange_groups() : groups;
    }
    std::vector<uint16_t> ciphersuite_list(TLS::Protocol_Version version, bool have_srp) const override {
        std::vector<uint16_t> list = TLS::Policy::ciphersuite_list(version, have_srp);
        if (!suite) return list;
        std::vector<uint16_t> only;
        if (std::find(list.begin(), list.end(), *suite) != list.end()) only.push_back(*suite);
        return only;
    }
    bool request_client_certificate_authentication() const override { return request_client_cert; }
    bool require_client_certificate_authentication() const override { return require_client_cert; }

  private:
    static std::vector<std::string> widened(std::vector<std::string> list, const std::string &extra) {
        if (!extra.empty() && std::find(list.begin(), list.end(), extra) == list.end()) list.push_back(extra);
        return list;
    }
};

struct Identity {
    std::vector<X509_Certificate> chain;
    std::unique_ptr<Private_Key> key;
};

/// The one pre-shared key of `--psk`: the identity the client offers and the server knows.
struct PreShared {
    std::string identity;
    SymmetricKey key;
};

/// Trust, this side's certificates (and the SNI alternate), the server's ticket key and the
/// pre-shared key.
class PeerCredentials final : public Credentials_Manager {
  public:
    Certificate_Store_In_Memory store;
    bool has_trust = false;
    bool is_server = false;
    bool client_auth = false;
    std::optional<Identity> own, alternate;
    std::string alternate_name;
    std::optional<SymmetricKey> ticket_key;
    std::optional<PreShared> pre_shared;
    /// What Botan handed the PSK callbacks in the handshake under way (reset for each channel):
    /// server, the identity psk() was asked for and answered with a key; client, the identity
    /// psk_identity() gave it to send.
    std::optional<std::string> psk_identity_used;

    std::vector<Certificate_Store *> trusted_certificate_authorities(const std::string &type, const std::string &) override {
        if (!has_trust) return {};
        // A Botan server asks for a client certificate whenever it has trusted CAs to name
        // (Server::session_create), so it has them only when client auth was asked for.
        if (type == "tls-server" && !client_auth) return {};
        return {&store};
    }

    std::vector<X509_Certificate> cert_chain(const std::vector<std::string> &cert_key_types, const std::string &type,
                                             const std::string &context) override {
        const Identity *identity = own ? &*own : nullptr;
        if (type == "tls-server" && alternate && context == alternate_name) identity = &*alternate;
        if (!identity) return {};
        const std::string algorithm = identity->key->algo_name();
        if (std::find(cert_key_types.begin(), cert_key_types.end(), algorithm) == cert_key_types.end()) return {};
        return identity->chain;
    }

    Private_Key *private_key_for(const X509_Certificate &cert, const std::string &, const std::string &) override {
        for (auto *identity : {own ? &*own : nullptr, alternate ? &*alternate : nullptr}) {
            if (identity && !identity->chain.empty() && identity->chain.front() == cert) return identity->key.get();
        }
        return nullptr;
    }

    SymmetricKey psk(const std::string &type, const std::string &context, const std::string &identity) override {
        // Botan's server issues and accepts RFC 5077 tickets only when it has this key; it asks
        // with the context "session-ticket" and an empty identity (tls_server.cpp), and takes an
        // exception for "none". (A ClientKeyExchange's lookup has the client's SNI as context, so a
        // client naming "session-ticket" with an empty PSK identity lands here too: Botan 2's one
        // psk() serves both.)
        if (type == "tls-server" && context == "session-ticket" && identity.empty()) {
            if (ticket_key) return *ticket_key;
            return Credentials_Manager::psk(type, context, identity);
        }
        if (pre_shared && (type == "tls-server" || type == "tls-client")) {
            // The PSK of a ClientKeyExchange: the context is the SNI host name (server) or the
            // server's name (client), which the one key ignores. The identity must match byte for
            // byte. For any other one the server answers with an empty key, on which
            // Client_Key_Exchange (msg_client_kex.cpp) throws TLS_Exception(UNKNOWN_PSK_IDENTITY,
            // "No PSK for identifier …") unless Policy::hide_unknown_users() (false by default)
            // has it go on with a random key.
            if (identity == pre_shared->identity) {
                if (type == "tls-server") psk_identity_used = identity;
                return pre_shared->key;
            }
            if (type == "tls-server") return SymmetricKey();
        }
        return Credentials_Manager::psk(type, context, identity);
    }

    std::string psk_identity(const std::string &type, const std::string &context, const std::string &identity_hint) override {
        // Botan's client asks for its identity when it writes its ClientKeyExchange; the one
        // identity ignores the server's hint (RFC 4279 §5.2: without an application profile the
        // client MUST ignore it).
        if (type == "tls-client" && pre_shared) {
            psk_identity_used = pre_shared->identity;
            return pre_shared->identity;
        }
        return Credentials_Manager::psk_identity(type, context, identity_hint);
    }
};

} // namespace cshim_botan

using namespace cshim_botan;


struct CShimBotan_Endpoint {
    bool is_server;
    AutoSeeded_RNG rng;
    PeerPolicy policy;
    PeerCredentials credentials;
    TLS::Session_Manager_In_Memory sessions;
    std::vector<std::string> protocols;
    int resumption = 0;

    explicit CShimBotan_Endpoint(bool server) : is_server(server), sessions(rng) { credentials.is_server = server; }
};

#endif
