// The C face of Botan 2's TLS API (see include/CShimBotan.h): the endpoint's configuration and
// the channels over it, with the Callbacks that buffer what Botan emits and what it decrypted.
// Decisions (what to configure, how to read a failure) are the Swift engine's; this file adapts
// and never lets a C++ exception out.

#include "endpoint.h"

namespace {

class PeerCallbacks final : public TLS::Callbacks {
  public:
    explicit PeerCallbacks(CShimBotan_Channel *channel) : m_channel(channel) {}
    void tls_emit_data(const uint8_t data[], size_t size) override;
    void tls_record_received(uint64_t, const uint8_t data[], size_t size) override;
    void tls_alert(TLS::Alert alert) override;
    bool tls_session_established(const TLS::Session &session) override;
    void tls_verify_cert_chain(const std::vector<X509_Certificate> &cert_chain,
                               const std::vector<std::shared_ptr<const OCSP::Response>> &ocsp_responses,
                               const std::vector<Certificate_Store *> &trusted_roots, Usage_Type usage,
                               const std::string &hostname, const TLS::Policy &policy) override;
    std::string tls_server_choose_app_protocol(const std::vector<std::string> &client_protos) override;
    void tls_inspect_handshake_msg(const TLS::Handshake_Message &message) override;
    void tls_modify_extensions(TLS::Extensions &extensions, TLS::Connection_Side side) override;
    std::vector<uint8_t> tls_sign_message(const Private_Key &key, RandomNumberGenerator &rng, const std::string &emsa,
                                          Signature_Format format, const std::vector<uint8_t> &msg) override;
    bool tls_verify_message(const Public_Key &key, const std::string &emsa, Signature_Format format,
                            const std::vector<uint8_t> &msg, const std::vector<uint8_t> &sig) override;

  private:
    CShimBotan_Channel *m_channel;
};

} // namespace

struct CShimBotan_Channel {
    CShimBotan_Endpoint *endpoint;
    PeerCallbacks callbacks;
    std::unique_ptr<TLS::Channel> tls;
    std::vector<uint8_t> output;
    size_t output_head = 0;
    std::vector<uint8_t> input;
    size_t input_head = 0;
    bool close_notify_received = false;
    int fatal_alert_received = -1;
    bool failed = false;
    // What the handshake's messages and callbacks showed.
    std::vector<uint8_t> client_random;
    std::string sni;
    uint16_t suite = 0;
    std::optional<uint16_t> group;
    std::string signature_emsa, signature_key;
    bool server_hello_done = false;
    bool client_sent_no_certificate = false;
    std::optional<TLS::Session> session;
    /// The PSK identity of the established session's handshake, as the credentials' callbacks saw it.
    std::optional<std::string> psk_identity;
    // The last failed path validation.
    bool verify_failed = false;
    int verify_overall = -1;
    std::vector<int> verify_statuses;

    explicit CShimBotan_Channel(CShimBotan_Endpoint *e) : endpoint(e), callbacks(this) {}
};

namespace {

void PeerCallbacks::tls_emit_data(const uint8_t data[], size_t size) {
    m_channel->output.insert(m_channel->output.end(), data, data + size);
}

void PeerCallbacks::tls_record_received(uint64_t, const uint8_t data[], size_t size) {
    m_channel->input.insert(m_channel->input.end(), data, data + size);
}

void PeerCallbacks::tls_alert(TLS::Alert alert) {
    if (alert.type() == TLS::Alert::CLOSE_NOTIFY) {
        m_channel->close_notify_received = true;
    } else if (alert.is_fatal() && m_channel->fatal_alert_received < 0) {
        m_channel->fatal_alert_received = alert.type();
    }
}

bool PeerCallbacks::tls_session_established(const TLS::Session &session) {
    m_channel->session = session;
    m_channel->psk_identity = m_channel->endpoint->credentials.psk_identity_used;
    // true: the session manager keeps it, for resumption by id (server) or by server name (client).
    return true;
}

// Botan's own check (Callbacks::tls_verify_cert_chain in 2.19: x509_path_validate with the
// policy's restrictions, failing with bad_certificate), keeping the status codes it found.
void PeerCallbacks::tls_verify_cert_chain(const std::vector<X509_Certificate> &cert_chain,
                                          const std::vector<std::shared_ptr<const OCSP::Response>> &ocsp_responses,
                                          const std::vector<Certificate_Store *> &trusted_roots, Usage_Type usage,
                                          const std::string &hostname, const TLS::Policy &policy) {
    if (cert_chain.empty()) throw Invalid_Argument("Certificate chain was empty");
    Path_Validation_Restrictions restrictions(policy.require_cert_revocation_info(), policy.minimum_signature_strength());
    Path_Validation_Result result =
        x509_path_validate(cert_chain, restrictions, trusted_roots, (usage == Usage_Type::TLS_SERVER_AUTH ? hostname : ""),
                           usage, std::chrono::system_clock::now(), tls_verify_cert_chain_ocsp_timeout(), ocsp_responses);
    if (!result.successful_validation()) {
        m_channel->verify_failed = true;
        m_channel->verify_overall = static_cast<int>(result.result());
        std::set<int> codes;
        for (const auto &statuses : result.all_statuses()) {
            for (auto code : statuses) {
                if (code >= Certificate_Status_Code::FIRST_ERROR_STATUS) codes.insert(static_cast<int>(code));
            }
        }
        m_channel->verify_statuses.assign(codes.begin(), codes.end());
        if (m_channel->verify_statuses.empty()) m_channel->verify_statuses.push_back(m_channel->verify_overall);
        throw TLS::TLS_Exception(TLS::Alert::BAD_CERTIFICATE, "Certificate validation failure: " + result.result_string());
    }
}

// The server's preference first, RFC 7301 §3.2's alert when nothing is shared.
std::string PeerCallbacks::tls_server_choose_app_protocol(const std::vector<std::string> &client_protos) {
    const auto &ours = m_channel->endpoint->protocols;
    if (ours.empty()) return "";
    for (const auto &protocol : ours) {
        if (std::find(client_protos.begin(), client_protos.end(), protocol) != client_protos.end()) return protocol;
    }
    throw TLS::TLS_Exception(TLS::Alert::NO_APPLICATION_PROTOCOL, "no application protocol in common with the client");
}

void PeerCallbacks::tls_inspect_handshake_msg(const TLS::Handshake_Message &message) {
    switch (message.type()) {
    case TLS::CLIENT_HELLO: {
        const auto &hello = dynamic_cast<const TLS::Client_Hello &>(message);
        m_channel->client_random = hello.random();
        m_channel->sni = hello.sni_hostname();
        break;
    }
    case TLS::SERVER_HELLO: {
        const auto &hello = dynamic_cast<const TLS::Server_Hello &>(message);
        m_channel->suite = hello.ciphersuite();
        break;
    }
    case TLS::SERVER_KEX: {
        // ServerECDHParams (RFC 8422 §5.4: curve_type named_curve(3), then the curve) or
        // ServerDHParams (RFC 5246 §7.4.3: dh_p first), as Botan wrote or read them.
        // For the PSK key exchanges the psk_identity_hint comes first (RFC 4279 §2, §3; RFC 5489
        // §2), and Botan's params() keep it (Server_Key_Exchange reads past it).
        const auto &all = dynamic_cast<const TLS::Server_Key_Exchange &>(message).params();
        const auto kex = TLS::Ciphersuite::by_id(m_channel->suite).kex_method();
        size_t offset = 0;
        if (TLS::key_exchange_is_psk(kex)) {
            if (all.size() < 2) break;
            offset = 2 + (size_t(all[0]) << 8 | all[1]);
            if (offset > all.size()) break;
        }
        const std::vector<uint8_t> params(all.begin() + offset, all.end());
        if ((kex == TLS::Kex_Algo::ECDH || kex == TLS::Kex_Algo::ECDHE_PSK) && params.size() >= 3 && params[0] == 3) {
            m_channel->group = static_cast<uint16_t>(params[1] << 8 | params[2]);
        } else if ((kex == TLS::Kex_Algo::DH || kex == TLS::Kex_Algo::DHE_PSK) && params.size() >= 2) {
            const size_t length = size_t(params[0]) << 8 | params[1];
            if (params.size() >= 2 + length) {
                const BigInt p(params.data() + 2, length);
                // RFC 7919's groups by Botan's own names for them (tls_algos.cpp).
                static const std::pair<TLS::Group_Params, const char *> ffdhe[] = {
                    {TLS::Group_Params::FFDHE_2048, "ffdhe/ietf/2048"}, {TLS::Group_Params::FFDHE_3072, "ffdhe/ietf/3072"},
                    {TLS::Group_Params::FFDHE_4096, "ffdhe/ietf/4096"}, {TLS::Group_Params::FFDHE_6144, "ffdhe/ietf/6144"},
                    {TLS::Group_Params::FFDHE_8192, "ffdhe/ietf/8192"}};
                for (const auto &entry : ffdhe) {
                    if (DL_Group(entry.second).get_p() == p) m_channel->group = static_cast<uint16_t>(entry.first);
                }
            }
        }
        break;
    }
    case TLS::SERVER_HELLO_DONE:
        m_channel->server_hello_done = true;
        break;
    case TLS::CERTIFICATE:
        // On a server, the Certificate after ServerHelloDone is the client's.
        if (m_channel->endpoint->is_server && m_channel->server_hello_done &&
            dynamic_cast<const TLS::Certificate &>(message).count() == 0) {
            m_channel->client_sent_no_certificate = true;
        }
        break;
    default:
        break;
    }
}

void PeerCallbacks::tls_modify_extensions(TLS::Extensions &extensions, TLS::Connection_Side side) {
    // Session ids only: Botan's client always offers the session_ticket extension otherwise.
    if (side == TLS::CLIENT && m_channel->endpoint->resumption == 1) extensions.remove_extension(TLS::TLSEXT_SESSION_TICKET);
}

std::vector<uint8_t> PeerCallbacks::tls_sign_message(const Private_Key &key, RandomNumberGenerator &rng, const std::string &emsa,
                                                     Signature_Format format, const std::vector<uint8_t> &msg) {
    // A TLS 1.2 server signs only its ServerKeyExchange.
    if (m_channel->endpoint->is_server && m_channel->signature_emsa.empty()) {
        m_channel->signature_emsa = emsa;
        m_channel->signature_key = key.algo_name();
    }
    return TLS::Callbacks::tls_sign_message(key, rng, emsa, format, msg);
}

bool PeerCallbacks::tls_verify_message(const Public_Key &key, const std::string &emsa, Signature_Format format,
                                       const std::vector<uint8_t> &msg, const std::vector<uint8_t> &sig) {
    // A TLS 1.2 client checks only the server's ServerKeyExchange signature.
    if (!m_channel->endpoint->is_server && m_channel->signature_emsa.empty()) {
        m_channel->signature_emsa = emsa;
        m_channel->signature_key = key.algo_name();
    }
    return TLS::Callbacks::tls_verify_message(key, emsa, format, msg, sig);
}

/// Runs `body`, turning any exception into `error` the way Channel::received_data answers it
/// (tls_channel.cpp: TLS_Exception sends its own alert, Invalid_Authentication_Tag bad_record_mac,
/// Decoding_Error decode_error, anything else internal_error).
template <typename Body> int guarded(CShimBotan_Channel *channel, CShimBotan_Error *error, bool botan_sends_alert, Body body) {
    clear_error(error);
    try {
        body();
        return 1;
    } catch (TLS::TLS_Exception &e) {
        set_error(error, "TLS_Exception", e.what());
        if (error && botan_sends_alert) error->alert_sent = e.type();
    } catch (Invalid_Authentication_Tag &e) {
        set_error(error, "Invalid_Authentication_Tag", e.what());
        if (error && botan_sends_alert) error->alert_sent = TLS::Alert::BAD_RECORD_MAC;
    } catch (Decoding_Error &e) {
        set_error(error, "Decoding_Error", e.what());
        if (error && botan_sends_alert) error->alert_sent = TLS::Alert::DECODE_ERROR;
    } catch (std::exception &e) {
        set_error(error, "exception", e.what());
        if (error && botan_sends_alert) error->alert_sent = TLS::Alert::INTERNAL_ERROR;
    } catch (...) {
        set_error(error, "exception", "unknown C++ exception");
        if (error && botan_sends_alert) error->alert_sent = TLS::Alert::INTERNAL_ERROR;
    }
    if (channel) {
        if (botan_sends_alert) channel->failed = true;
        if (error) {
            error->verify_failed = channel->verify_failed;
            error->verify_overall = channel->verify_overall;
            error->verify_status_count = int(std::min<size_t>(channel->verify_statuses.size(), CSHIM_BOTAN_MAX_STATUS));
            for (int i = 0; i < error->verify_status_count; i++) error->verify_statuses[i] = channel->verify_statuses[i];
            error->client_sent_no_certificate = channel->client_sent_no_certificate;
            error->alert_received = channel->fatal_alert_received;
        }
    }
    return 0;
}

std::string subject_of(const X509_Certificate &certificate) {
    // RFC 4514: the most specific RDN first, so the DER order reversed.
    static const std::vector<std::pair<std::string, std::string>> names = {
        {"2.5.4.3", "CN"}, {"2.5.4.10", "O"}, {"2.5.4.11", "OU"}, {"2.5.4.6", "C"}, {"2.5.4.7", "L"},
        {"2.5.4.8", "ST"}, {"2.5.4.9", "STREET"}, {"0.9.2342.19200300.100.1.25", "DC"}, {"0.9.2342.19200300.100.1.1", "UID"}};
    const auto &rdns = certificate.subject_dn().dn_info();
    std::string text;
    for (auto it = rdns.rbegin(); it != rdns.rend(); ++it) {
        const std::string oid = it->first.to_string();
        std::string name = oid;
        for (const auto &entry : names) {
            if (entry.first == oid) name = entry.second;
        }
        if (!text.empty()) text += ",";
        text += name + "=" + it->second.value();
    }
    return text;
}

} // namespace

extern "C" {

CShimBotan_Endpoint *CShimBotan_endpoint_new(int is_server, CShimBotan_Error *error) {
    clear_error(error);
    try {
        return new CShimBotan_Endpoint(is_server != 0);
    } catch (std::exception &e) {
        set_error(error, "exception", e.what());
        return nullptr;
    }
}

void CShimBotan_endpoint_free(CShimBotan_Endpoint *endpoint) { delete endpoint; }

void CShimBotan_endpoint_allow_versions(CShimBotan_Endpoint *endpoint, int tls10, int tls11, int tls12) {
    endpoint->policy.tls10 = tls10;
    endpoint->policy.tls11 = tls11;
    endpoint->policy.tls12 = tls12;
}

void CShimBotan_endpoint_lift_policy(CShimBotan_Endpoint *endpoint) { endpoint->policy.lifted = true; }

int CShimBotan_endpoint_force_suite(CShimBotan_Endpoint *endpoint, uint16_t code) {
    const auto suite = TLS::Ciphersuite::by_id(code);
    if (!suite.valid()) return 0;
    endpoint->policy.suite = code;
    endpoint->policy.suite_cipher = suite.cipher_algo();
    endpoint->policy.suite_mac = suite.mac_algo();
    endpoint->policy.suite_kex = suite.kex_algo();
    endpoint->policy.suite_sig = suite.sig_algo();
    return 1;
}

int CShimBotan_endpoint_force_groups(CShimBotan_Endpoint *endpoint, const uint16_t *codes, size_t count) {
    TLS::Policy defaults;
    const auto known = defaults.key_exchange_groups();
    std::vector<TLS::Group_Params> groups;
    for (size_t i = 0; i < count; i++) {
        const auto group = static_cast<TLS::Group_Params>(codes[i]);
        if (std::find(known.begin(), known.end(), group) == known.end()) return 0;
        groups.push_back(group);
    }
    endpoint->policy.groups = groups;
    return 1;
}

void CShimBotan_endpoint_client_auth(CShimBotan_Endpoint *endpoint, int request, int require) {
    endpoint->policy.request_client_cert = request;
    endpoint->policy.require_client_cert = require;
    endpoint->credentials.client_auth = request || require;
}

int CShimBotan_endpoint_load_trust(CShimBotan_Endpoint *endpoint, const char *path, CShimBotan_Error *error) {
    return guarded(nullptr, error, false, [&] {
        for (const auto &certificate : load_chain(path)) endpoint->credentials.store.add_certificate(certificate);
        endpoint->credentials.has_trust = true;
    });
}

static Identity load_identity(CShimBotan_Endpoint *endpoint, const char *cert, const char *key) {
    Identity identity;
    identity.chain = load_chain(cert);
    DataSource_Stream source(key);
    identity.key = PKCS8::load_key(source);
    // Both keys decoded by Botan, so their encodings compare (the certificate's bit string need not
    // use the same point format).
    std::unique_ptr<Public_Key> certified(identity.chain.front().subject_public_key());
    if (certified->public_key_bits() != identity.key->public_key_bits()) {
        throw Invalid_Argument(std::string("the key in ") + key + " does not match the certificate in " + cert);
    }
    (void)endpoint;
    return identity;
}

int CShimBotan_endpoint_load_identity(CShimBotan_Endpoint *endpoint, const char *cert, const char *key, CShimBotan_Error *error) {
    return guarded(nullptr, error, false, [&] { endpoint->credentials.own = load_identity(endpoint, cert, key); });
}

int CShimBotan_endpoint_load_alternate(CShimBotan_Endpoint *endpoint, const char *name, const char *cert, const char *key,
                                       CShimBotan_Error *error) {
    return guarded(nullptr, error, false, [&] {
        endpoint->credentials.alternate = load_identity(endpoint, cert, key);
        endpoint->credentials.alternate_name = name;
    });
}

void CShimBotan_endpoint_add_protocol(CShimBotan_Endpoint *endpoint, const char *protocol) {
    endpoint->protocols.push_back(protocol);
}

void CShimBotan_endpoint_pre_shared_key(CShimBotan_Endpoint *endpoint, const char *identity, const uint8_t *key, size_t key_length) {
    endpoint->credentials.pre_shared = PreShared{identity, SymmetricKey(key, key_length)};
    endpoint->policy.pre_shared_key = true;
}

void CShimBotan_endpoint_resumption(CShimBotan_Endpoint *endpoint, int mode) {
    endpoint->resumption = mode;
    if (mode == 2 && endpoint->is_server) endpoint->credentials.ticket_key = SymmetricKey(endpoint->rng, 32);
}

CShimBotan_Channel *CShimBotan_channel_new(CShimBotan_Endpoint *endpoint, const char *host, uint16_t port, CShimBotan_Error *error) {
    auto channel = std::make_unique<CShimBotan_Channel>(endpoint);
    auto *raw = channel.get();
    endpoint->credentials.psk_identity_used.reset();
    int ok = guarded(nullptr, error, false, [&] {
        auto &policy = endpoint->policy;
        if (endpoint->is_server) {
            raw->tls = std::make_unique<TLS::Server>(raw->callbacks, endpoint->sessions, endpoint->credentials, policy, endpoint->rng);
        } else {
            // The highest version the policy allows: Botan's client refuses to offer another.
            const auto offer = policy.tls12 ? TLS::Protocol_Version::TLS_V12
                             : policy.tls11 ? TLS::Protocol_Version::TLS_V11
                                            : TLS::Protocol_Version::TLS_V10;
            raw->tls = std::make_unique<TLS::Client>(raw->callbacks, endpoint->sessions, endpoint->credentials, policy, endpoint->rng,
                                                     TLS::Server_Information(host ? host : "", port), offer, endpoint->protocols);
        }
    });
    return ok ? channel.release() : nullptr;
}

void CShimBotan_channel_free(CShimBotan_Channel *channel) { delete channel; }

int CShimBotan_channel_received(CShimBotan_Channel *channel, const uint8_t *bytes, size_t count, CShimBotan_Error *error) {
    int ok = guarded(channel, error, true, [&] { channel->tls->received_data(bytes, count); });
    if (ok && channel->fatal_alert_received >= 0) channel->failed = true;
    return ok;
}

const uint8_t *CShimBotan_channel_output(CShimBotan_Channel *channel, size_t *count) {
    *count = channel->output.size() - channel->output_head;
    return channel->output.data() + channel->output_head;
}

void CShimBotan_channel_consume_output(CShimBotan_Channel *channel, size_t count) {
    channel->output_head += count;
    if (channel->output_head >= channel->output.size()) {
        channel->output.clear();
        channel->output_head = 0;
    }
}

size_t CShimBotan_channel_available(CShimBotan_Channel *channel) { return channel->input.size() - channel->input_head; }

size_t CShimBotan_channel_take(CShimBotan_Channel *channel, uint8_t *buffer, size_t capacity) {
    size_t n = std::min(capacity, CShimBotan_channel_available(channel));
    std::memcpy(buffer, channel->input.data() + channel->input_head, n);
    channel->input_head += n;
    if (channel->input_head >= channel->input.size()) {
        channel->input.clear();
        channel->input_head = 0;
    }
    return n;
}

int CShimBotan_channel_send(CShimBotan_Channel *channel, const uint8_t *bytes, size_t count, CShimBotan_Error *error) {
    return guarded(channel, error, false, [&] { channel->tls->send(bytes, count); });
}

int CShimBotan_channel_close(CShimBotan_Channel *channel, CShimBotan_Error *error) {
    return guarded(channel, error, false, [&] {
        if (!channel->tls->is_closed()) channel->tls->close();
    });
}

int CShimBotan_channel_send_alert(CShimBotan_Channel *channel, int type, CShimBotan_Error *error) {
    return guarded(channel, error, false, [&] {
        channel->tls->send_alert(TLS::Alert(static_cast<TLS::Alert::Type>(type), false));
    });
}

int CShimBotan_channel_is_active(CShimBotan_Channel *channel) { return channel->tls->is_active(); }
int CShimBotan_channel_is_closed(CShimBotan_Channel *channel) { return channel->tls->is_closed(); }
int CShimBotan_channel_close_notify_received(CShimBotan_Channel *channel) { return channel->close_notify_received; }
int CShimBotan_channel_fatal_alert_received(CShimBotan_Channel *channel) { return channel->fatal_alert_received; }
int CShimBotan_channel_failed(CShimBotan_Channel *channel) { return channel->failed; }

void CShimBotan_channel_negotiated(CShimBotan_Channel *channel, CShimBotan_Negotiated *out) {
    std::memset(out, 0, sizeof(*out));
    try {
        if (channel->session) {
            out->version = channel->session->version().version_code();
            out->suite = channel->session->ciphersuite_code();
            copy_text(out->suite_name, sizeof(out->suite_name), channel->session->ciphersuite().to_string());
            out->psk_suite = TLS::key_exchange_is_psk(channel->session->ciphersuite().kex_method());
            if (out->psk_suite && channel->psk_identity) {
                copy_text(out->psk_identity, sizeof(out->psk_identity), *channel->psk_identity);
                out->has_psk_identity = 1;
            }
            const auto &secret = channel->session->master_secret();
            if (secret.size() == sizeof(out->master_secret) && channel->client_random.size() == sizeof(out->client_random)) {
                std::memcpy(out->master_secret, secret.data(), secret.size());
                std::memcpy(out->client_random, channel->client_random.data(), channel->client_random.size());
                out->has_secrets = 1;
            }
        }
        copy_text(out->alpn, sizeof(out->alpn), channel->tls->application_protocol());
        copy_text(out->server_name, sizeof(out->server_name), channel->sni);
        // RFC 5246 §7.3: only a full handshake has a ServerHelloDone; an abbreviated one (a session
        // resumed by id or by ticket) goes from ServerHello to ChangeCipherSpec. (Botan's client
        // compares session ids, which a server resuming a ticket offered with an empty id leaves empty.)
        out->resumed = channel->session.has_value() && !channel->server_hello_done;
        if (channel->group) {
            out->group = *channel->group;
            out->has_group = 1;
        }
        copy_text(out->signature_emsa, sizeof(out->signature_emsa), channel->signature_emsa);
        copy_text(out->signature_key, sizeof(out->signature_key), channel->signature_key);
        std::vector<X509_Certificate> peer;
        if (channel->session) peer = channel->session->peer_certs();
        if (peer.empty()) peer = channel->tls->peer_cert_chain();
        if (!peer.empty()) {
            out->has_peer_certificate = 1;
            copy_text(out->peer_subject, sizeof(out->peer_subject), subject_of(peer.front()));
        }
    } catch (...) {
    }
}

} // extern "C"
