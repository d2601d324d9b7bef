%% The ssl options of one cell, built fresh for each (a worker keeps nothing but the process):
%% versions, suite and groups as the request allows them, certificates, verification, ALPN, SNI,
%% resumption and the key log. Requests OTP cannot honour are {unsupported, Reason}, decided
%% before any socket is opened.
-module(otp_config).
-include_lib("public_key/include/public_key.hrl").
-export([versions/1, suites/2, suite_map/2, group_options/2, check_files/1, common/2,
         server_options/3, client_options/3, ip_literal/1]).

%% The versions a cell may negotiate. ssl:versions() names what OTP enables by default
%% (`supported`) and what it implements (`available`); TLS 1.0 and 1.1 are available but not
%% supported, so they are tried only under --legacy, the protocol's lifted policy.
versions(#{version := V, legacy := Legacy}) ->
    Supported = proplists:get_value(supported, ssl:versions()),
    Available = proplists:get_value(available, ssl:versions()),
    Allowed = case Legacy of true -> Available; false -> Supported end,
    case V of
        undefined -> {ok, Allowed};
        _ ->
            {_, Atom} = lists:keyfind(V, 1, otp_request:versions()),
            case {lists:member(Atom, Allowed), lists:member(Atom, Available)} of
                {true, _} -> {ok, [Atom]};
                {false, true} -> {unsupported, io_lib:format("OTP ssl enables ~s only when the policy is lifted (--legacy)", [V])};
                {false, false} -> {unsupported, io_lib:format("OTP ssl ~s does not implement ~s", [ssl_version(), V])}
            end
    end.

ssl_version() ->
    {ok, V} = application:get_key(ssl, vsn),
    V.

%% The suites a cell can name at version V, as ssl:cipher_suites/2 lists them: `all`
%% (everything but the anonymous suites; RSA_PSK among them) or `exclusive` (those that came
%% with V), with the PSK, DHE_PSK and ECDHE_PSK suites OTP files under `anonymous` /
%% `exclusive_anonymous`. The SRP suites need credentials no request carries, and no scenario
%% asks for an anonymous Diffie-Hellman one.
suites(Kind, V) ->
    Anonymous = case Kind of all -> anonymous; exclusive -> exclusive_anonymous end,
    [S || S <- ssl:cipher_suites(Kind, V) ++ [A || A <- ssl:cipher_suites(Anonymous, V), otp_psk:is_psk(A)],
          not srp(S)].

srp(#{key_exchange := Kex}) -> lists:member(Kex, [srp_anon, srp_rsa, srp_dss]).

%% The cipher suite map OTP knows for an IANA code point at one of the versions.
suite_map(Code, Versions) ->
    Bin = <<Code:16>>,
    Found = [S || V <- Versions, S <- suites(all, V), ssl_cipher_format:suite_map_to_bin(S) =:= Bin],
    case Found of
        [S | _] -> {ok, S};
        [] -> {unsupported, io_lib:format("OTP ssl has no suite 0x~4.16.0B at ~p", [Code, Versions])}
    end.

%% A PSK suite takes the key of --psk and nothing else does. --psk with no suite or at TLS 1.3
%% alone asks for a TLS 1.3 external PSK (psk-tls13), which OTP 25 does not have: its
%% psk_identity and user_lookup_fun are options of TLS 1.2 and below (OTP refuses them for TLS 1.3
%% alone), and its TLS 1.3 PSKs are its own tickets.
psk_suite(#{psk := undefined}, Ciphers, _Versions) ->
    case [S || S <- Ciphers, otp_psk:is_psk(S)] of
        [S | _] -> {unsupported, io_lib:format("~s is a PSK suite: it needs --psk", [ssl:suite_to_str(S)])};
        [] -> ok
    end;
psk_suite(#{psk_mode := Mode}, _, _) when Mode =/= undefined ->
    {unsupported, "--psk-mode is TLS 1.3's, and OTP ssl has no TLS 1.3 external PSK"};
psk_suite(_, _, ['tlsv1.3']) -> no_external_psk();
psk_suite(_, [], _) -> no_external_psk();
psk_suite(_, [S], _) ->
    case otp_psk:is_psk(S) of
        true -> ok;
        false -> {unsupported, io_lib:format("--psk goes with a PSK suite (PSK, DHE_PSK, ECDHE_PSK or RSA_PSK) before TLS 1.3, and ~s is none",
                                             [ssl:suite_to_str(S)])}
    end.

no_external_psk() ->
    {unsupported, io_lib:format("OTP ssl ~s has no TLS 1.3 external PSK: its psk_identity and user_lookup_fun serve the PSK suites of TLS 1.2 and below only",
                                [ssl_version()])}.

%% A group list becomes two options: supported_groups (TLS 1.3's key shares, ssl:groups()) and
%% eccs (the curves of TLS 1.2 and below, ssl:eccs()). OTP's TLS 1.2 finite-field DHE uses the
%% server's own parameters, not RFC 7919 groups, so ffdhe* is a TLS 1.3 group only here.
group_options(undefined, _Versions) -> {ok, []};
group_options(Names, Versions) ->
    Tls13 = [G || N <- Names, G <- ssl:groups(), atom_to_list(G) =:= N],
    Ecc = [G || N <- Names, G <- ssl:eccs(), atom_to_list(G) =:= N],
    Has13 = lists:member('tlsv1.3', Versions),
    HasOld = Versions -- ['tlsv1.3'] =/= [],
    Usable = (Has13 andalso Tls13 =/= []) orelse (HasOld andalso Ecc =/= []),
    case Usable of
        false -> {unsupported, io_lib:format("OTP ssl cannot offer ~s at ~p (TLS 1.3 groups ~p, TLS 1.2 curves ~p)",
                                             [lists:join(",", Names), Versions, ssl:groups(), ssl:eccs()])};
        true ->
            {ok, [{supported_groups, Tls13} || Has13, Tls13 =/= []]
                 ++ [{eccs, Ecc} || HasOld, Ecc =/= []]}
    end.

%% This side's own files, read before the handshake so that an unreadable one or a key that does
%% not belong to its certificate is a setup failure: OTP would read them only in the handshake,
%% and a mismatched key would show as the other side's bad signature. The check signs with the
%% key and verifies with the certificate's public key (public_key:sign/verify).
check_files(Req) ->
    try
        [read_pem(maps:get(K, Req), K) || K <- [ca, cert, key, alt_cert, alt_key], maps:get(K, Req) =/= undefined],
        pair(maps:get(cert, Req), maps:get(key, Req)),
        pair(maps:get(alt_cert, Req), maps:get(alt_key, Req)),
        ok
    catch throw:{setup, Message} -> {setup, Message}
    end.

read_pem(File, What) ->
    case file:read_file(File) of
        {ok, Bin} ->
            case catch public_key:pem_decode(Bin) of
                [_ | _] = Entries -> Entries;
                _ -> throw({setup, io_lib:format("--~s ~ts: no PEM entries OTP's public_key can read", [What, File])})
            end;
        {error, Reason} ->
            throw({setup, io_lib:format("--~s ~ts: ~s (~p)", [What, File, file:format_error(Reason), Reason])})
    end.

pair(undefined, _) -> ok;
pair(CertFile, KeyFile) ->
    [{'Certificate', Der, _} | _] = [E || E = {'Certificate', _, _} <- read_pem(CertFile, cert)],
    [KeyEntry | _] = read_pem(KeyFile, key),
    Key = try public_key:pem_entry_decode(KeyEntry)
          catch _:R -> throw({setup, io_lib:format("--key ~ts: public_key cannot decode it: ~p", [KeyFile, R])})
          end,
    #'OTPCertificate'{tbsCertificate = #'OTPTBSCertificate'{subjectPublicKeyInfo = Spki}} =
        public_key:pkix_decode_cert(Der, otp),
    Public = public_key(Spki),
    Digest = case Key of
                 #'ECPrivateKey'{parameters = {namedCurve, C}} when C =:= ?'id-Ed25519'; C =:= ?'id-Ed448' -> none;
                 _ -> sha256
             end,
    Message = <<"interop-matrix key check">>,
    Ok = try public_key:verify(Message, Digest, public_key:sign(Message, Digest, Key), Public)
         catch _:_ -> false
         end,
    Ok orelse throw({setup, io_lib:format("--key ~ts does not belong to the certificate in ~ts (a signature with it does not verify)",
                                          [KeyFile, CertFile])}),
    ok.

public_key(#'OTPSubjectPublicKeyInfo'{algorithm = #'PublicKeyAlgorithm'{parameters = Params},
                                      subjectPublicKey = #'ECPoint'{} = Point}) ->
    {Point, Params};
public_key(#'OTPSubjectPublicKeyInfo'{algorithm = #'PublicKeyAlgorithm'{algorithm = ?'id-Ed25519'},
                                      subjectPublicKey = Point}) ->
    {Point, {namedCurve, ?'id-Ed25519'}};
public_key(#'OTPSubjectPublicKeyInfo'{subjectPublicKey = Key}) -> Key.

%% Options both roles share: versions, suite, groups, key log.
common(Req, Versions) ->
    Suite = case maps:get(suite, Req) of
                undefined -> {ok, []};
                Code ->
                    case suite_map(Code, Versions) of
                        {ok, S} -> {ok, [{ciphers, [S]}]};
                        U -> U
                    end
            end,
    case {Suite, group_options(maps:get(groups, Req), Versions)} of
        {{unsupported, _} = U1, _} -> U1;
        {_, {unsupported, _} = U2} -> U2;
        {{ok, S1}, {ok, G}} ->
            case psk_suite(Req, [S || {ciphers, [S]} <- S1], Versions) of
                {unsupported, _} = U3 -> U3;
                ok ->
                    {ok, [{versions, Versions}, {log_level, warning}, {keep_secrets, maps:get(keylog, Req) =/= undefined}]
                         ++ S1 ++ G}
            end
    end.

%% The verify fun is OTP's default one (fail on every bad_cert, leave unknown extensions to OTP)
%% plus two things: it tells the cell's process which refusal OTP's validation found (the
%% connection runs in OTP's own process), and, for an IP literal as --server-name, it checks
%% the certificate's iPAddress SANs with public_key:pkix_verify_hostname, which OTP does only for
%% the DNS name it sends as SNI.
verify_fun(Owner, Ref, Ip) ->
    {fun(Cert, {bad_cert, Reason} = Bad, _State) ->
             Owner ! {otp_verify, Ref, Reason, not_yet_valid(Cert)},
             {fail, Bad};
        (_Cert, {extension, _}, State) -> {unknown, State};
        (_Cert, valid, State) -> {valid, State};
        (Cert, valid_peer, State) ->
             case Ip of
                 undefined -> {valid, State};
                 _ ->
                     case public_key:pkix_verify_hostname(Cert, [{ip, Ip}]) of
                         true -> {valid, State};
                         false ->
                             Owner ! {otp_verify, Ref, ip_address_mismatch, false},
                             {fail, {bad_cert, hostname_check_failed}}
                     end
             end
     end, []}.

%% Whether a certificate's notBefore is still ahead: public_key reports both ends of the validity
%% period as cert_expired.
not_yet_valid(#'OTPCertificate'{tbsCertificate = #'OTPTBSCertificate'{validity = #'Validity'{notBefore = NB}}}) ->
    try seconds(NB) > erlang:system_time(second) + 62167219200
    catch _:_ -> false
    end;
not_yet_valid(_) -> false.

seconds({utcTime, [Y1, Y2 | Rest]}) ->
    YY = list_to_integer([Y1, Y2]),
    seconds({generalTime, integer_to_list(if YY >= 50 -> 1900 + YY; true -> 2000 + YY end) ++ Rest});
seconds({generalTime, [Y1, Y2, Y3, Y4, M1, M2, D1, D2, H1, H2, Mi1, Mi2, S1, S2 | _]}) ->
    I = fun list_to_integer/1,
    calendar:datetime_to_gregorian_seconds({{I([Y1, Y2, Y3, Y4]), I([M1, M2]), I([D1, D2])},
                                            {I([H1, H2]), I([Mi1, Mi2]), I([S1, S2])}}).

%% An IPv4 or IPv6 literal as inet_pton reads it, or undefined for a DNS name.
ip_literal(Name) ->
    case inet:parse_strict_address(Name) of
        {ok, Ip} -> Ip;
        {error, _} -> undefined
    end.

server_options(Req, Common, {Owner, Ref}) ->
    Versions = proplists:get_value(versions, Common),
    Auth = case maps:get(client_auth, Req) of
               none -> [{verify, verify_none}];
               Mode -> [{verify, verify_peer}, {fail_if_no_peer_cert, Mode =:= required},
                        {verify_fun, verify_fun(Owner, Ref, undefined)}]
                       ++ ca_option(Req)
           end,
    Alpn = case maps:get(alpn, Req) of
               undefined -> [];
               Protocols -> [{alpn_preferred_protocols, Protocols}]
           end,
    Sni = case maps:get(alt_name, Req) of
              undefined -> [];
              AltName ->
                  AltCert = maps:get(alt_cert, Req), AltKey = maps:get(alt_key, Req),
                  [{sni_fun, fun(Name) when Name =:= AltName -> [{certfile, AltCert}, {keyfile, AltKey}];
                                (_) -> []
                             end}]
          end,
    Resume = case maps:get(resume, Req) of
                 %% No tickets either way: the session cache OTP keeps per listener.
                 session_id -> pre13(Versions, [{reuse_sessions, true}]) ++ tls13_only(Versions, [{session_tickets, disabled}]);
                 %% Stateless TLS 1.3 tickets, keyed by the listener; TLS 1.2 has none in OTP.
                 ticket -> pre13(Versions, [{reuse_sessions, false}]) ++ tls13_only(Versions, [{session_tickets, stateless}]);
                 undefined -> tls13_only(Versions, [{session_tickets, disabled}])
             end,
    Psk = case maps:get(psk_key, Req, undefined) of
              undefined -> [];
              Key -> otp_psk:server_options(Key, {Owner, Ref})
          end,
    Common ++ [{certfile, maps:get(cert, Req)}, {keyfile, maps:get(key, Req)}] ++ Auth ++ Alpn ++ Sni ++ Resume ++ Psk.

client_options(Req, Common, {Owner, Ref}) ->
    Versions = proplists:get_value(versions, Common),
    Name = maps:get(server_name, Req),
    Ip = ip_literal(Name),
    %% RFC 6066 §3: an IP literal is not a HostName, so it is not sent as SNI; OTP's own host
    %% check follows SNI, and the verify fun checks the iPAddress SANs instead.
    Sni = case Ip of
              undefined -> [{server_name_indication, Name}];
              _ -> [{server_name_indication, disable}]
          end,
    Own = case maps:get(cert, Req) of
              undefined -> [];
              Cert -> [{certfile, Cert}, {keyfile, maps:get(key, Req)}]
          end,
    Alpn = case maps:get(alpn, Req) of
               undefined -> [];
               Protocols -> [{alpn_advertised_protocols, Protocols}]
           end,
    Resume = case maps:get(resume, Req) of
                 ticket -> pre13(Versions, [{reuse_sessions, false}]) ++ tls13_only(Versions, [{session_tickets, manual}]);
                 session_id -> pre13(Versions, [{reuse_sessions, save}]) ++ tls13_only(Versions, [{session_tickets, disabled}]);
                 undefined -> pre13(Versions, [{reuse_sessions, false}]) ++ tls13_only(Versions, [{session_tickets, disabled}])
             end,
    %% The key is the client's only credential; a certificate that comes (RSA_PSK) is verified.
    Psk = case maps:get(psk_key, Req, undefined) of
              undefined -> [];
              Key -> otp_psk:client_options(Key)
          end,
    Common ++ [{verify, verify_peer}, {verify_fun, verify_fun(Owner, Ref, Ip)}] ++ ca_option(Req)
        ++ Sni ++ Own ++ Alpn ++ Resume ++ Psk.

%% Without --ca a client trusts nothing: an empty list of trusted roots.
ca_option(#{ca := undefined}) -> [{cacerts, []}];
ca_option(#{ca := Ca}) -> [{cacertfile, Ca}].

%% reuse_sessions is an option of TLS 1.2 and below; OTP refuses it for TLS 1.3 alone.
pre13(Versions, Options) ->
    case Versions -- ['tlsv1.3'] of
        [] -> [];
        _ -> Options
    end.

%% session_tickets is a TLS 1.3 option; OTP refuses it when TLS 1.3 is not enabled.
tls13_only(Versions, Options) ->
    case lists:member('tlsv1.3', Versions) of
        true -> Options;
        false -> []
    end.
