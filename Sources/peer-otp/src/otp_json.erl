%% A small JSON writer and reader: OTP 25 has no json module (it arrived in OTP 27), and the
%% protocol needs only objects of known shape out and arrays of strings in.
-module(otp_json).
-export([encode/1, decode_string_array/1]).

%% Values: {obj, [{Key, Value}]} (key order kept, as the lines read better that way), lists,
%% binaries (UTF-8 text), integers, floats, true, false, null.
-spec encode(term()) -> iodata().
encode(null) -> <<"null">>;
encode(true) -> <<"true">>;
encode(false) -> <<"false">>;
encode(N) when is_integer(N) -> integer_to_binary(N);
encode(F) when is_float(F) -> float_to_binary(F, [{decimals, 3}, compact]);
encode(B) when is_binary(B) -> string(B);
encode(A) when is_atom(A) -> string(atom_to_binary(A, utf8));
encode({obj, Pairs}) ->
    [${, lists:join($,, [[string(key(K)), $:, encode(V)] || {K, V} <- Pairs]), $}];
encode(L) when is_list(L) ->
    [$[, lists:join($,, [encode(V) || V <- L]), $]].

key(K) when is_atom(K) -> atom_to_binary(K, utf8);
key(K) when is_binary(K) -> K.

string(B) -> [$", escape(B, <<>>), $"].

escape(<<>>, Acc) -> Acc;
escape(<<$", R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\\"">>);
escape(<<$\\, R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\\\">>);
escape(<<$\n, R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\n">>);
escape(<<$\r, R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\r">>);
escape(<<$\t, R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\t">>);
escape(<<C, R/binary>>, Acc) when C < 16#20 ->
    Hex = iolist_to_binary(io_lib:format("\\u~4.16.0b", [C])),
    escape(R, <<Acc/binary, Hex/binary>>);
escape(<<C, R/binary>>, Acc) -> escape(R, <<Acc/binary, C>>).

%% A worker request: a JSON array of strings, nothing else. Returns {ok, [binary()]} or error.
-spec decode_string_array(binary()) -> {ok, [binary()]} | error.
decode_string_array(Line) ->
    try
        case ws(Line) of
            <<$[, R0/binary>> ->
                case ws(R0) of
                    <<$], R1/binary>> -> finish([], R1);
                    R1 -> elements(R1, [])
                end;
            _ -> error
        end
    catch throw:bad -> error
    end.

elements(Bin, Acc) ->
    {S, R0} = parse_string(ws(Bin)),
    case ws(R0) of
        <<$,, R1/binary>> -> elements(R1, [S | Acc]);
        <<$], R1/binary>> -> finish([S | Acc], R1);
        _ -> throw(bad)
    end.

finish(Acc, Rest) ->
    case ws(Rest) of
        <<>> -> {ok, lists:reverse(Acc)};
        _ -> error
    end.

ws(<<C, R/binary>>) when C =:= $\s; C =:= $\t; C =:= $\r; C =:= $\n -> ws(R);
ws(B) -> B.

parse_string(<<$", R/binary>>) -> chars(R, <<>>);
parse_string(_) -> throw(bad).

chars(<<$", R/binary>>, Acc) -> {Acc, R};
chars(<<$\\, E, R/binary>>, Acc) when E =/= $u ->
    C = case E of
            $" -> $"; $\\ -> $\\; $/ -> $/; $b -> $\b; $f -> $\f;
            $n -> $\n; $r -> $\r; $t -> $\t; _ -> throw(bad)
        end,
    chars(R, <<Acc/binary, C>>);
chars(<<$\\, $u, H:4/binary, R/binary>>, Acc) ->
    Code = binary_to_integer(H, 16),
    case Code of
        Hi when Hi >= 16#D800, Hi =< 16#DBFF ->
            case R of
                <<$\\, $u, L:4/binary, R2/binary>> ->
                    Lo = binary_to_integer(L, 16),
                    Cp = 16#10000 + ((Hi - 16#D800) bsl 10) + (Lo - 16#DC00),
                    chars(R2, <<Acc/binary, Cp/utf8>>);
                _ -> throw(bad)
            end;
        _ -> chars(R, <<Acc/binary, Code/utf8>>)
    end;
chars(<<C, R/binary>>, Acc) -> chars(R, <<Acc/binary, C>>);
chars(<<>>, _) -> throw(bad).
