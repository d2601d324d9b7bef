%% The pre-shared key of `--psk FILE` (feature `psk`): the TLS 1.2-and-below PSK suites of
%% RFC 4279, 5487 and 5489 (PSK, DHE_PSK, ECDHE_PSK, RSA_PSK). The file's identity and key, the
%% ssl options each role hands OTP (`psk_identity` and `user_lookup_fun`), and the identity the
%% view reads back.
-module(otp_psk).
-export([is_psk/1, read/1, server_options/2, client_options/1, view/3, log_refused/1]).

%% OTP's key exchanges of the PSK suites. OTP files PSK, DHE_PSK and ECDHE_PSK among its
%% anonymous suites (ssl:cipher_suites(anonymous, V): no certificate authenticates the server),
%% RSA_PSK among the others (ssl:cipher_suites(all, V)).
is_psk(#{key_exchange := Kex}) -> lists:member(Kex, [psk, dhe_psk, ecdhe_psk, rsa_psk]).

%% FILE holds the identity on its first line (1 to 128 bytes of UTF-8 without control
%% characters, RFC 4279 §5.1) and the key in hex on its second (1 to 64 bytes); only empty lines
%% may follow. {ok, {Identity, Key}} with both binaries, or {setup, Message}: the file is this
%% side's configuration.
read(File) ->
    case file:read_file(File) of
        {error, Reason} ->
            {setup, io_lib:format("--psk ~ts: ~s (~p)", [File, file:format_error(Reason), Reason])};
        {ok, Text} ->
            case parse([strip_cr(L) || L <- binary:split(Text, <<"\n">>, [global])]) of
                {ok, _} = Ok -> Ok;
                {error, Why} -> {setup, io_lib:format("--psk ~ts: ~s", [File, Why])}
            end
    end.

strip_cr(<<>>) -> <<>>;
strip_cr(Line) ->
    case binary:last(Line) of
        $\r -> binary:part(Line, 0, byte_size(Line) - 1);
        _ -> Line
    end.

parse([Identity, Hex | Rest]) when Hex =/= <<>> ->
    case lists:all(fun(L) -> L =:= <<>> end, Rest) of
        true -> both(identity(Identity), key(Hex));
        false -> {error, "expected two lines, the identity and the key in hex"}
    end;
parse(_) -> {error, "expected two lines, the identity and the key in hex"}.

both({ok, Identity}, {ok, Key}) -> {ok, {Identity, Key}};
both({error, _} = E, _) -> E;
both(_, {error, _} = E) -> E.

identity(Bin) when byte_size(Bin) >= 1, byte_size(Bin) =< 128 ->
    case unicode:characters_to_list(Bin) of
        Chars when is_list(Chars) ->
            case lists:any(fun(C) -> C < 16#20 end, Chars) of
                false -> {ok, Bin};
                true -> {error, "the identity must be 1 to 128 bytes of UTF-8 without control characters"}
            end;
        _ -> {error, "the identity must be 1 to 128 bytes of UTF-8 without control characters"}
    end;
identity(_) -> {error, "the identity must be 1 to 128 bytes of UTF-8 without control characters"}.

key(Hex) when byte_size(Hex) rem 2 =:= 0, byte_size(Hex) =< 128 ->
    try {ok, binary:decode_hex(Hex)}
    catch error:badarg -> {error, "the key is not hex"}
    end;
key(_) -> {error, "the key must be 1 to 64 bytes, written as an even number of hex digits"}.

%% The server knows exactly one identity. OTP calls the lookup fun in the connection's own
%% process with the identity from the ClientKeyExchange (a binary), so the fun tells the cell's
%% process which identity it accepted (the view's psk_identity) or refused. Its answers are
%% {ok, Key} or error (ssl's user_lookup_fun), and on error OTP 25 refuses with its own alert,
%% illegal_parameter (ssl_handshake:psk_secret/2,3), not RFC 4279 §2's unknown_psk_identity.
%% No psk_identity (the hint) is set: a plain PSK server then sends no ServerKeyExchange.
server_options({Identity, Key}, {Owner, Ref}) ->
    [{user_lookup_fun, {fun server_lookup/3, {Identity, Key, Owner, Ref}}}].

server_lookup(psk, Identity, {Identity, Key, Owner, Ref}) ->
    Owner ! {otp_psk, Ref, accepted, Identity},
    {ok, Key};
server_lookup(psk, Other, {_, _, Owner, Ref}) ->
    Owner ! {otp_psk, Ref, refused, Other},
    error.

%% The client offers its identity as the psk_identity option. OTP asks its lookup fun with the
%% server's identity hint (or undefined without a ServerKeyExchange), never with the identity it
%% sends, so the fun answers the one key whatever it is given, and the client cannot show which
%% identity went out (view/3).
client_options({Identity, Key}) ->
    [{psk_identity, identity_option(Identity)},
     {user_lookup_fun, {fun(psk, _Hint, K) -> {ok, K} end, Key}}].

%% OTP encodes the psk_identity string the way it encodes file names
%% (file:native_name_encoding(): latin1 under a C locale, utf8 under a UTF-8 one), so it is
%% handed the list that encodes to the identity's UTF-8 bytes either way.
identity_option(Utf8) ->
    case file:native_name_encoding() of
        utf8 -> unicode:characters_to_list(Utf8);
        latin1 -> binary_to_list(Utf8)
    end.

%% The view's psk_identity and what it adds to not_readable, for a connection whose suite is
%% Suite. Only a PSK suite has one: the server's is the identity its lookup fun accepted in this
%% handshake (none came on a resumed session, which calls no lookup fun: not readable); the
%% client's is configuration only (client_options/1): not readable.
view(Role, Suite, Ref) ->
    case {is_psk(Suite), Role} of
        {false, _} -> {null, []};
        {true, client} -> {null, [<<"psk_identity">>]};
        {true, server} ->
            receive {otp_psk, Ref, accepted, Identity} -> {Identity, []}
            after 0 -> {null, [<<"psk_identity">>]}
            end
    end.

%% After a failed handshake: the identities the server's lookup fun did not know, in the log
%% (OTP's own words name only its alert).
log_refused(Ref) ->
    receive
        {otp_psk, Ref, refused, Identity} ->
            otp_out:log("the client's PSK identity ~0tp is not the one this server knows: its user_lookup_fun answered error",
                        [Identity]),
            log_refused(Ref)
    after 0 -> ok
    end.
