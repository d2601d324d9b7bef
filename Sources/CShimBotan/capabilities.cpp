// What this Botan build supports, for the capabilities line: its suites, the default Policy's
// groups, signature schemes and versions, and the run-time version.

#include "endpoint.h"

extern "C" {

const char *CShimBotan_version_string(void) { return Botan::version_cstr(); }

void CShimBotan_version(int *major, int *minor, int *patch) {
    *major = int(Botan::version_major());
    *minor = int(Botan::version_minor());
    *patch = int(Botan::version_patch());
}

size_t CShimBotan_suite_count(void) { return TLS::Ciphersuite::all_known_ciphersuites().size(); }

void CShimBotan_suite_info(size_t index, CShimBotan_SuiteInfo *out) {
    std::memset(out, 0, sizeof(*out));
    const auto &all = TLS::Ciphersuite::all_known_ciphersuites();
    if (index >= all.size()) return;
    const auto &suite = all[index];
    TLS::Policy defaults;
    out->code = suite.ciphersuite_code();
    copy_text(out->name, sizeof(out->name), suite.to_string());
    copy_text(out->kex, sizeof(out->kex), suite.kex_algo());
    copy_text(out->auth, sizeof(out->auth), suite.sig_algo());
    copy_text(out->cipher, sizeof(out->cipher), suite.cipher_algo());
    copy_text(out->mac, sizeof(out->mac), suite.mac_algo());
    out->valid = suite.valid();
    out->psk = suite.psk_ciphersuite();
    auto contains = [&](TLS::Protocol_Version v) {
        try {
            auto list = defaults.ciphersuite_list(v, false);
            return std::find(list.begin(), list.end(), suite.ciphersuite_code()) != list.end();
        } catch (std::exception &) {
            // "Policy does not allow any available cipher suite": TLS 1.0 has only CBC suites,
            // which the default Policy's allowed_ciphers leave out.
            return false;
        }
    };
    out->default_tls12 = contains(TLS::Protocol_Version::TLS_V12);
    out->default_tls10 = contains(TLS::Protocol_Version::TLS_V10);
    out->usable_tls10 = suite.usable_in_version(TLS::Protocol_Version::TLS_V10);
    out->usable_tls12 = suite.usable_in_version(TLS::Protocol_Version::TLS_V12);
}

size_t CShimBotan_default_groups(uint16_t *out, size_t capacity) {
    TLS::Policy defaults;
    size_t n = 0;
    for (auto group : defaults.key_exchange_groups()) {
        if (n < capacity) out[n++] = static_cast<uint16_t>(group);
    }
    return n;
}

size_t CShimBotan_signature_schemes(uint16_t *out, size_t capacity, int policy_default) {
    TLS::Policy defaults;
    std::vector<TLS::Signature_Scheme> schemes;
    if (policy_default) {
        schemes = defaults.allowed_signature_schemes();
    } else {
        for (auto scheme : TLS::all_signature_schemes()) {
            if (TLS::signature_scheme_is_known(scheme)) schemes.push_back(scheme);
        }
    }
    size_t n = 0;
    for (auto scheme : schemes) {
        if (n < capacity) out[n++] = static_cast<uint16_t>(scheme);
    }
    return n;
}

int CShimBotan_default_allows(int index) {
    TLS::Policy defaults;
    switch (index) {
    case 0: return defaults.allow_tls10();
    case 1: return defaults.allow_tls11();
    case 2: return defaults.allow_tls12();
    default: return 0;
    }
}

} // extern "C"
