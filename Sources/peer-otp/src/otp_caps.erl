%% The capabilities line, asked of OTP at run time: versions from ssl:versions(), suites from
%% ssl:cipher_suites/2 with their IANA code points from ssl_cipher_format, groups from
%% ssl:groups() (TLS 1.3) and ssl:eccs() (TLS 1.2 curves).
-module(otp_caps).
-export([capabilities/0, library/0, ssl_version/0]).

ssl_version() ->
    _ = application:load(ssl),
    {ok, V} = application:get_key(ssl, vsn),
    V.

library() ->
    {obj, [{id, <<"otp">>}, {name, <<"Erlang/OTP ssl">>}, {version, list_to_binary(ssl_version())}]}.

capabilities() ->
    Versions = ssl:versions(),
    Available = proplists:get_value(available, Versions),
    Supported = proplists:get_value(supported, Versions),
    Order = ['tlsv1', 'tlsv1.1', 'tlsv1.2', 'tlsv1.3'],
    Names = fun(L) -> [otp_view:version_name(V) || V <- Order, lists:member(V, L)] end,
    Groups = lists:usort([atom_to_binary(G, utf8) || G <- ssl:groups() ++ ssl:eccs()]),
    [{_, _, OpenSSL} | _] = crypto:info_lib(),
    {obj, [{event, <<"capabilities">>}, {protocol, 1}, {library, library()},
           {versions, Names(Available)}, {default_versions, Names(Supported)},
           {suites, suites(Available)}, {groups, Groups},
           {default_groups, [atom_to_binary(G, utf8) || G <- ssl:groups(default)]},
           {signature_schemes, null},
           {certificate_types, [<<"rsa2048">>, <<"rsa3072">>, <<"ecdsa-p256">>, <<"ecdsa-p384">>, <<"ecdsa-p521">>, <<"ed25519">>]},
           {notes, [iolist_to_binary(N) || N <- notes(OpenSSL)]},
           {features, [<<"sni">>, <<"resume-session-id">>, <<"transfer">>,
                       <<"key-update">>, <<"worker">>, <<"ip-server-name">>, <<"psk">>]},
           {not_readable, otp_view:not_readable()}]}.

notes(OpenSSL) ->
    [io_lib:format("OTP ~s, erts ~s, ssl ~s; crypto ~s over ~s",
                   [erlang:system_info(otp_release), erlang:system_info(version), ssl_version(),
                    app_version(crypto), OpenSSL]),
     "the negotiated group and the handshake's signature scheme are not readable: ssl:connection_information/2 has no item for either in this OTP",
     "TLS 1.0 and 1.1 are implemented but not enabled by default: tried only with --legacy",
     "resume-ticket is not listed: OTP has no RFC 5077 tickets for TLS 1.2 (its session_tickets are TLS 1.3's); --resume ticket at TLS 1.3 works and is answered unsupported at other versions",
     "session_resumption is false after an abbreviated TLS 1.2 handshake in OTP 25: resumption there is read from the session id (RFC 5246 7.4.1.3)",
     "a TLS 1.3 resumed connection has no peer certificate in OTP (ssl:peercert answers no_peercert): peer_certificate is null there",
     "ffdhe groups are TLS 1.3 only: TLS 1.2 DHE uses the server's own parameters, and the TLS 1.2 curves (ssl:eccs()) are not TLS 1.3 groups",
     "alert direction is read from OTP's alert text (generated / received); KeyUpdate messages are not counted (no callback)",
     "no user_canceled on a handshake timeout: OTP has no call to send an alert",
     "psk: OTP's user_lookup_fun answers {ok, Key} or error, and for error OTP sends illegal_parameter, not unknown_psk_identity (RFC 4279 2)",
     "psk: the client's lookup fun is called with the server's identity hint, not the identity it sends (psk_identity is configuration): the client names psk_identity not readable",
     "psk-tls13 and psk-ke are not listed: OTP 25 has no TLS 1.3 external PSK (psk_identity and user_lookup_fun are options of TLS 1.2 and below)"].

app_version(App) ->
    _ = application:load(App),
    {ok, V} = application:get_key(App, vsn),
    V.

%% Every suite of ssl:cipher_suites(all, V) for each available version (all: everything but the
%% anonymous suites) and the PSK suites OTP files under anonymous (otp_config:suites/2), with the
%% versions it appears at; `default` when ssl:cipher_suites(default, V) lists it for one of the
%% default versions. None is refused by policy: a suite outside the defaults is used once
%% `ciphers` names it (the PSK suites with --psk).
suites(Available) ->
    Supported = proplists:get_value(supported, ssl:versions()),
    Order = ['tlsv1', 'tlsv1.1', 'tlsv1.2', 'tlsv1.3'],
    Entries = [{Code, S, V} || V <- Order, lists:member(V, Available), S <- otp_config:suites(all, V),
                               <<Code:16>> <- [ssl_cipher_format:suite_map_to_bin(S)]],
    Defaults = [ssl_cipher_format:suite_map_to_bin(S) || V <- Supported, S <- ssl:cipher_suites(default, V)],
    Codes = lists:usort([C || {C, _, _} <- Entries]),
    [begin
         {_, S, _} = lists:keyfind(Code, 1, Entries),
         Name = list_to_binary(ssl:suite_to_str(S)),
         %% ssl:cipher_suites(all, V) lists the suites of earlier versions too; `exclusive` names
         %% the version a suite came with. A TLS 1.3 suite is TLS 1.3's alone, and the others end
         %% at TLS 1.2 (RFC 8446 §4.1.2 takes no earlier suite).
         Min = hd([V || V <- Order, lists:member(V, Available),
                        lists:member(<<Code:16>>, [ssl_cipher_format:suite_map_to_bin(X) || X <- otp_config:suites(exclusive, V)])]
                  ++ [hd([V || {C, _, V} <- Entries, C =:= Code])]),
         Max = case Min of 'tlsv1.3' -> 'tlsv1.3'; _ -> 'tlsv1.2' end,
         {obj, [{code, iolist_to_binary(io_lib:format("0x~4.16.0B", [Code]))},
                {name, otp_view:iana_name(Name)},
                {library_name, Name},
                {min_version, otp_view:version_name(Min)},
                {max_version, otp_view:version_name(Max)},
                {default, lists:member(<<Code:16>>, Defaults)}]}
     end || Code <- Codes].
