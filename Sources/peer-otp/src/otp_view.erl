%% What one connection negotiated, read back from OTP ssl: ssl:connection_information/2 for the
%% version, suite, resumption and received SNI, ssl:negotiated_protocol/1 for ALPN,
%% ssl:peercert/1 for the other side's certificate and, with --psk, the identity the server's
%% lookup fun accepted (otp_psk:view/3). OTP 25 exposes neither the key exchange group nor the
%% handshake's signature scheme: both are null and named not readable.
-module(otp_view).
-include_lib("public_key/include/public_key.hrl").
-export([read/4, not_readable/0, subject/1, version_name/1, suite_code/1, suite_name/1, iana_name/1]).

not_readable() -> [<<"group">>, <<"signature_scheme">>].

%% Known: the session ids this cell's earlier connections used (a client: the one it offered).
%% PskRef: with --psk, the reference the server's lookup fun tags its messages with; undefined
%% without (then the view has no psk_identity).
read(Socket, Role, Known, PskRef) ->
    {ok, Info} = ssl:connection_information(Socket, [protocol, selected_cipher_suite, session_resumption, sni_hostname, session_id]),
    Suite = proplists:get_value(selected_cipher_suite, Info),
    Alpn = case ssl:negotiated_protocol(Socket) of
               {ok, P} -> P;
               {error, _} -> null
           end,
    %% On a resumed connection OTP keeps the certificate of the session it resumed.
    Peer = case ssl:peercert(Socket) of
               {ok, Der} -> subject(Der);
               {error, _} -> null
           end,
    ServerName = case {Role, proplists:get_value(sni_hostname, Info)} of
                     {server, Name} when is_list(Name) -> [{server_name, unicode:characters_to_binary(Name)}];
                     {server, _} -> [{server_name, null}];
                     _ -> []
                 end,
    LibrarySuite = suite_name(Suite),
    Iana = iana_name(LibrarySuite),
    {Psk, PskNotReadable} = case PskRef of
                                undefined -> {[], []};
                                _ ->
                                    {Identity, NotReadable} = otp_psk:view(Role, Suite, PskRef),
                                    {[{psk_identity, Identity}], NotReadable}
                            end,
    {obj, [{version, version_name(proplists:get_value(protocol, Info))},
           {suite, Iana}, {suite_code, suite_code(Suite)}, {library_suite, LibrarySuite},
           {group, null}, {signature_scheme, null}, {alpn, Alpn},
           {resumed, resumed(Info, Known)},
           {peer_certificate, Peer}] ++ ServerName ++ Psk ++ [{not_readable, not_readable() ++ PskNotReadable}]}.

%% session_resumption is set by OTP 25's TLS 1.3 PSK handshake only: after an abbreviated TLS 1.2
%% handshake it stays false on both sides (ssl_gen_statem's handshake_env.resumption is written in
%% the TLS 1.3 state machines alone). For TLS 1.2 and below the session id says it: RFC 5246
%% §7.4.1.3, the server resumes exactly when it answers with the session id the client offered,
%% and a full handshake gets a new one. So a connection whose session id is one this cell already
%% used (the client: the one it offered; the server: one it issued) was resumed.
resumed(Info, Known) ->
    case proplists:get_value(session_resumption, Info, false) of
        true -> true;
        false ->
            proplists:get_value(protocol, Info) =/= 'tlsv1.3'
                andalso lists:member(proplists:get_value(session_id, Info), Known)
                andalso proplists:get_value(session_id, Info) =/= <<>>
    end.

version_name('tlsv1.3') -> <<"TLS1.3">>;
version_name('tlsv1.2') -> <<"TLS1.2">>;
version_name('tlsv1.1') -> <<"TLS1.1">>;
version_name(tlsv1) -> <<"TLS1.0">>;
version_name(Other) -> atom_to_binary(Other, utf8).

suite_code(Suite) ->
    <<Code:16>> = ssl_cipher_format:suite_map_to_bin(Suite),
    iolist_to_binary(io_lib:format("0x~4.16.0B", [Code])).

suite_name(Suite) -> list_to_binary(ssl:suite_to_str(Suite)).

%% OTP's name for a suite is the IANA one but for these: null, and the runner names the suite
%% from its code point. OTP 25 calls 0xC0AA and 0xC0AB TLS_DHE_PSK_WITH_AES_*_CCM_8; RFC 6655 §3
%% registered them as TLS_PSK_DHE_WITH_AES_128_CCM_8 and TLS_PSK_DHE_WITH_AES_256_CCM_8.
iana_name(<<"TLS_DHE_PSK_WITH_AES_128_CCM_8">>) -> null;
iana_name(<<"TLS_DHE_PSK_WITH_AES_256_CCM_8">>) -> null;
iana_name(<<"TLS_", _/binary>> = Name) -> Name;
iana_name(_) -> null.

%% The subject in RFC 4514 order (most specific RDN first: the reverse of the DER's order).
subject(Der) ->
    #'OTPCertificate'{tbsCertificate = #'OTPTBSCertificate'{subject = {rdnSequence, Rdns}}} =
        public_key:pkix_decode_cert(Der, otp),
    Parts = [lists:join("+", [attribute(A) || A <- Set]) || Set <- lists:reverse(Rdns)],
    unicode:characters_to_binary(lists:join(",", Parts)).

attribute(#'AttributeTypeAndValue'{type = Type, value = Value}) ->
    [type_name(Type), "=", escape(value_text(Value))].

type_name(?'id-at-commonName') -> "CN";
type_name(?'id-at-organizationName') -> "O";
type_name(?'id-at-organizationalUnitName') -> "OU";
type_name(?'id-at-countryName') -> "C";
type_name(?'id-at-localityName') -> "L";
type_name(?'id-at-stateOrProvinceName') -> "ST";
type_name({2, 5, 4, 9}) -> "STREET";
type_name({0, 9, 2342, 19200300, 100, 1, 25}) -> "DC";
type_name({0, 9, 2342, 19200300, 100, 1, 1}) -> "UID";
type_name(Oid) -> lists:join(".", [integer_to_list(N) || N <- tuple_to_list(Oid)]).

value_text({utf8String, B}) when is_binary(B) -> unicode:characters_to_list(B);
value_text({_, S}) when is_list(S) -> S;
value_text({_, B}) when is_binary(B) -> binary_to_list(B);
value_text(S) when is_list(S) -> S;
value_text(B) when is_binary(B) -> binary_to_list(B);
value_text(Other) -> io_lib:format("~p", [Other]).

%% RFC 4514 §2.4: escape , + " \ < > ; anywhere, # and space at the start, space at the end.
escape(S0) ->
    S = lists:flatten(S0),
    Escaped = lists:flatmap(fun(C) -> case lists:member(C, ",+\"\\<>;") of
                                          true -> [$\\, C];
                                          false -> [C]
                                      end end, S),
    Lead = case Escaped of [$# | R] -> [$\\, $# | R]; [$\s | R] -> [$\\, $\s | R]; _ -> Escaped end,
    case lists:reverse(Lead) of
        [$\s | R2] when R2 =/= [$\\] -> lists:reverse(R2) ++ "\\ ";
        _ -> Lead
    end.
