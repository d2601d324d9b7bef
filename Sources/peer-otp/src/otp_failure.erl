%% Turns what OTP ssl and the socket layer returned into the protocol's error object: the stage,
%% the alert with its direction, the verify_reason from the certificate check, and OTP's own words.
-module(otp_failure).
-export([new/2, new/3, classify/3, to_json/1, alert_code/1, verify_reason/2, describe/1]).

%% A failure: #{stage, message, alert (atom | undefined), direction (sent | received),
%% library_code, verify_reason, ours}. `ours` marks a fault this peer found itself (an echo that
%% differs, a deadline): OTP sent nothing, so a close_notify may still go out.
new(Stage, Message) -> new(Stage, Message, #{}).
new(Stage, Message, Extra) ->
    maps:merge(#{stage => Stage, message => text(Message), alert => undefined, direction => undefined,
                 library_code => null, verify_reason => null, ours => false}, Extra).

text(M) when is_binary(M) -> M;
text(M) -> unicode:characters_to_binary(M).

describe(Term) -> unicode:characters_to_binary(io_lib:format("~0tp", [Term])).

%% classify(Reason, Stage, Context) with Reason what an ssl or gen_tcp call gave as {error, Reason}
%% and Context #{role, client_auth, timeout_ms, verify => [{OtpReason, NotYetValid}]}, the
%% refusals the verify fun saw on this connection (first one first).
classify({tls_alert, {Alert, Description}}, Stage, Ctx) ->
    Direction = alert_direction(Description),
    Base = new(Stage, Description, #{alert => Alert, direction => Direction,
                                     library_code => atom_to_binary(Alert, utf8)}),
    case maps:get(verify, Ctx, []) of
        [{Reason, NotYetValid} | _] when Direction =:= sent ->
            %% This side's certificate check refused: OTP's bad_cert reason is the library's
            %% verification result, its alert text the message.
            Base#{stage => verify, verify_reason => verify_reason(Reason, NotYetValid),
                  library_code => describe(Reason)};
        _ ->
            case no_certificate(Alert, Direction, Description, Ctx) of
                true -> Base#{stage => verify, verify_reason => <<"no_certificate">>};
                false -> Base
            end
    end;
classify(timeout, Stage, Ctx) ->
    new(timeout, io_lib:format("~s did not finish within ~B ms (OTP: timeout)",
                               [Stage, maps:get(timeout_ms, Ctx)]),
        #{library_code => <<"ETIMEDOUT">>, ours => true});
classify(Reason, Stage, _Ctx) when Reason =:= econnrefused; Reason =:= econnreset; Reason =:= epipe;
                                   Reason =:= etimedout; Reason =:= econnaborted; Reason =:= ehostunreach;
                                   Reason =:= enetunreach; Reason =:= eaddrinuse ->
    Code = string:uppercase(atom_to_list(Reason)),
    new(Stage, io_lib:format("~s (~s)", [inet:format_error(Reason), Code]),
        #{library_code => list_to_binary(Code)});
classify(closed, Stage, _Ctx) ->
    new(Stage, "the connection closed (OTP: closed)", #{library_code => <<"closed">>});
classify(Reason, Stage, _Ctx) ->
    new(Stage, describe(Reason)).

%% OTP writes who produced an alert into its description: "... generated CLIENT ALERT: ..." for
%% one this side sent, "... received SERVER ALERT: ..." for one it got. It has no other field.
alert_direction(Description) ->
    case string:find(Description, " received ") of
        nomatch -> sent;
        _ -> received
    end.

%% A server that insists on a client certificate and got none: OTP refuses with handshake_failure
%% (TLS 1.2) or certificate_required (TLS 1.3), its reason after the alert's name being
%% no_client_certificate_provided or certificate_required (tls_dtls_connection.erl,
%% tls_handshake_1_3.erl).
no_certificate(Alert, sent, Description, #{role := server, client_auth := required}) ->
    Reason = case string:split(Description, "\n ") of
                 [_, R] -> string:trim(R);
                 _ -> ""
             end,
    (Alert =:= handshake_failure andalso Reason =:= "no_client_certificate_provided")
        orelse (Alert =:= certificate_required andalso Reason =:= "certificate_required");
no_certificate(_, _, _, _) -> false.

%% OTP's bad_cert reasons (public_key's path validation, ssl's extension and host checks) as the
%% protocol's verify_reason. public_key has one reason, cert_expired, for both ends of the
%% validity period; NotYetValid says the certificate's notBefore is still ahead.
verify_reason(cert_expired, true) -> <<"not_yet_valid">>;
verify_reason(cert_expired, false) -> <<"expired">>;
verify_reason(hostname_check_failed, _) -> <<"name_mismatch">>;
verify_reason(ip_address_mismatch, _) -> <<"name_mismatch">>;
verify_reason(unknown_ca, _) -> <<"untrusted">>;
verify_reason(selfsigned_peer, _) -> <<"untrusted">>;
verify_reason(invalid_issuer, _) -> <<"untrusted">>;
verify_reason(invalid_signature, _) -> <<"signature">>;
verify_reason(invalid_key_usage, _) -> <<"key_usage">>;
verify_reason(invalid_ext_key_usage, _) -> <<"key_usage">>;
verify_reason({key_usage_mismatch, _}, _) -> <<"key_usage">>;
verify_reason(_, _) -> <<"other">>.

to_json(F = #{stage := Stage}) ->
    {Alert, Code, Direction} =
        case maps:get(alert, F) of
            undefined -> {null, null, null};
            A -> {rfc_name(A), alert_code(A), atom_to_binary(maps:get(direction, F), utf8)}
        end,
    {obj, [{stage, atom_to_binary(Stage, utf8)}, {alert, Alert}, {alert_code, Code},
           {alert_direction, Direction}, {library_code, maps:get(library_code, F)},
           {verify_reason, case Stage of verify -> maps:get(verify_reason, F); _ -> null end},
           {message, maps:get(message, F)}]}.

%% OTP's atom for an alert is the RFC's name, but for the reserved ones (suffixed _RESERVED).
rfc_name(unrecognised_name) -> <<"unrecognized_name">>;
rfc_name(A) -> iolist_to_binary(string:replace(atom_to_list(A), "_RESERVED", "")).

%% OTP names alerts by the RFCs' names (ssl_alert.hrl); the code points are the RFCs'.
alert_code(close_notify) -> 0;
alert_code(unexpected_message) -> 10;
alert_code(bad_record_mac) -> 20;
alert_code(decryption_failed) -> 21;
alert_code(decryption_failed_RESERVED) -> 21;
alert_code(record_overflow) -> 22;
alert_code(decompression_failure) -> 30;
alert_code(handshake_failure) -> 40;
alert_code(no_certificate) -> 41;
alert_code(no_certificate_RESERVED) -> 41;
alert_code(bad_certificate) -> 42;
alert_code(unsupported_certificate) -> 43;
alert_code(certificate_revoked) -> 44;
alert_code(certificate_expired) -> 45;
alert_code(certificate_unknown) -> 46;
alert_code(illegal_parameter) -> 47;
alert_code(unknown_ca) -> 48;
alert_code(access_denied) -> 49;
alert_code(decode_error) -> 50;
alert_code(decrypt_error) -> 51;
alert_code(export_restriction) -> 60;
alert_code(export_restriction_RESERVED) -> 60;
alert_code(protocol_version) -> 70;
alert_code(insufficient_security) -> 71;
alert_code(internal_error) -> 80;
alert_code(inappropriate_fallback) -> 86;
alert_code(user_canceled) -> 90;
alert_code(no_renegotiation) -> 100;
alert_code(no_renegotiation_RESERVED) -> 100;
alert_code(missing_extension) -> 109;
alert_code(unsupported_extension) -> 110;
alert_code(certificate_unobtainable) -> 111;
alert_code(unrecognized_name) -> 112;
alert_code(unrecognised_name) -> 112;
alert_code(bad_certificate_status_response) -> 113;
alert_code(bad_certificate_hash_value) -> 114;
alert_code(unknown_psk_identity) -> 115;
alert_code(certificate_required) -> 116;
alert_code(no_application_protocol) -> 120;
alert_code(_) -> null.
