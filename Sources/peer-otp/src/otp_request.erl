%% Parses a cell's arguments (`server|client --option value …`) exactly as
%% Sources/PeerKit/PEER-PROTOCOL.md lists them into a map. A line the protocol does not allow is
%% {usage, Message}: exit 2 for a one-cell peer, a usage line for a worker.
-module(otp_request).
-export([parse/1, connections/1, versions/0]).

%% The protocol's version names and OTP's.
versions() ->
    [{"TLS1.0", tlsv1}, {"TLS1.1", 'tlsv1.1'}, {"TLS1.2", 'tlsv1.2'}, {"TLS1.3", 'tlsv1.3'}].

defaults(Role) ->
    #{role => Role, version => undefined, suite => undefined, groups => undefined,
      cert => undefined, key => undefined, ca => undefined, client_auth => none,
      server_name => "localhost", port => undefined, timeout_ms => 10000,
      message => "interop-matrix ping", legacy => false, alpn => undefined,
      keylog => undefined, truncate => false, alt_name => undefined, alt_cert => undefined,
      alt_key => undefined, resume => undefined, transfer => undefined, key_update => false,
      psk => undefined, psk_mode => undefined}.

%% Options with a value, and the key each fills.
value_option("--version") -> version;
value_option("--suite") -> suite;
value_option("--group") -> groups;
value_option("--cert") -> cert;
value_option("--key") -> key;
value_option("--ca") -> ca;
value_option("--client-auth") -> client_auth;
value_option("--server-name") -> server_name;
value_option("--port") -> port;
value_option("--timeout-ms") -> timeout_ms;
value_option("--message") -> message;
value_option("--keylog") -> keylog;
value_option("--alt-name") -> alt_name;
value_option("--alt-cert") -> alt_cert;
value_option("--alt-key") -> alt_key;
value_option("--resume") -> resume;
value_option("--transfer") -> transfer;
value_option("--alpn") -> alpn;
value_option("--psk") -> psk;
value_option("--psk-mode") -> psk_mode;
value_option(_) -> undefined.

flag_option("--legacy") -> legacy;
flag_option("--truncate") -> truncate;
flag_option("--key-update") -> key_update;
flag_option(_) -> undefined.

-spec parse([string() | binary()]) -> {ok, map()} | {usage, string()}.
parse(Args0) ->
    Args = [text(A) || A <- Args0],
    try
        case Args of
            [Role | Rest] when Role =:= "server"; Role =:= "client" ->
                check(options(Rest, defaults(list_to_atom(Role))));
            _ ->
                usage("expected 'server', 'client', 'capabilities' or 'worker' as the first argument")
        end
    catch throw:{usage, M} -> {usage, M}
    end.

text(B) when is_binary(B) -> unicode:characters_to_list(B);
text(L) -> L.

usage(Format, Args) -> throw({usage, lists:flatten(io_lib:format(Format, Args))}).
usage(Message) -> throw({usage, Message}).

options([], R) -> R;
options([Option | Rest], R) ->
    case flag_option(Option) of
        undefined ->
            case value_option(Option) of
                undefined -> usage("unknown option ~ts", [Option]);
                Key ->
                    case Rest of
                        [Value | Rest2] -> options(Rest2, R#{Key => value(Key, Option, Value)});
                        [] -> usage("~ts needs a value", [Option])
                    end
            end;
        Flag -> options(Rest, R#{Flag => true})
    end.

value(version, Option, V) ->
    case lists:keyfind(V, 1, versions()) of
        {_, _} -> V;
        false -> usage("~ts ~ts: expected one of TLS1.0, TLS1.1, TLS1.2, TLS1.3", [Option, V])
    end;
value(suite, Option, V) ->
    case V of
        "0x" ++ Hex when length(Hex) =:= 4 ->
            try list_to_integer(Hex, 16)
            catch error:badarg -> usage("~ts ~ts: expected an IANA code point such as 0xC02B", [Option, V])
            end;
        _ -> usage("~ts ~ts: expected an IANA code point such as 0xC02B", [Option, V])
    end;
value(groups, Option, V) ->
    case string:lexemes(V, ",") of
        [] -> usage("~ts needs at least one group", [Option]);
        Groups -> Groups
    end;
value(client_auth, Option, V) ->
    case V of
        "none" -> none;
        "optional" -> optional;
        "required" -> required;
        _ -> usage("~ts ~ts: expected none, optional or required", [Option, V])
    end;
value(port, Option, V) ->
    case integer(V) of
        N when is_integer(N), N >= 1, N =< 65535 -> N;
        _ -> usage("~ts ~ts: expected 1-65535", [Option, V])
    end;
value(timeout_ms, Option, V) ->
    case integer(V) of
        N when is_integer(N), N > 0 -> N;
        _ -> usage("~ts ~ts: expected a positive number", [Option, V])
    end;
value(transfer, Option, V) ->
    case integer(V) of
        N when is_integer(N), N > 0, N =< 1 bsl 30 -> N;
        _ -> usage("~ts ~ts: expected a byte count from 1 to 1073741824", [Option, V])
    end;
value(resume, Option, V) ->
    case V of
        "session-id" -> session_id;
        "ticket" -> ticket;
        _ -> usage("~ts ~ts: expected session-id or ticket", [Option, V])
    end;
value(psk_mode, Option, V) ->
    case V of
        "ke" -> ke;
        "dhe-ke" -> dhe_ke;
        _ -> usage("~ts ~ts: expected ke or dhe-ke", [Option, V])
    end;
value(alpn, Option, V) ->
    Protocols = string:split(V, ",", all),
    case [P || P <- Protocols, P =:= "" orelse byte_size(unicode:characters_to_binary(P)) > 255] of
        [] -> [unicode:characters_to_binary(P) || P <- Protocols];
        _ -> usage("~ts ~ts: expected comma-separated protocol names such as h2,http/1.1", [Option, V])
    end;
value(_Key, _Option, V) -> V.

integer(V) ->
    try list_to_integer(V) catch error:badarg -> undefined end.

check(R = #{role := Role}) ->
    Role =:= client andalso maps:get(port, R) =:= undefined andalso usage("client needs --port"),
    Role =:= server andalso (maps:get(cert, R) =:= undefined orelse maps:get(key, R) =:= undefined)
        andalso usage("server needs --cert and --key"),
    (maps:get(cert, R) =:= undefined) =/= (maps:get(key, R) =:= undefined)
        andalso usage("--cert and --key go together"),
    Alt = [K || K <- [alt_name, alt_cert, alt_key], maps:get(K, R) =/= undefined],
    (Alt =/= [] andalso length(Alt) =/= 3) andalso usage("--alt-name, --alt-cert and --alt-key go together"),
    lists:member($\n, maps:get(message, R)) andalso usage("--message must be one line"),
    (maps:get(psk_mode, R) =/= undefined andalso maps:get(psk, R) =:= undefined) andalso usage("--psk-mode goes with --psk"),
    {ok, R}.

%% Two connections when resuming, else one.
connections(#{resume := undefined}) -> 1;
connections(_) -> 2.
