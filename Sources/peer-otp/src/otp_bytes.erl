%% The protocol's byte-level helpers: FNV-1a 64 digests, the transfer pattern, and the echo check's
%% unambiguous description of two lines that differ.
%%
%% 64-bit arithmetic is done on two 32-bit halves: Erlang integers past 60 bits are bignums, and a
%% 4 MiB transfer would otherwise allocate one per byte.
-module(otp_bytes).
-export([fnv_new/0, fnv_add/2, fnv_text/1, pattern/2, pattern_digest/1, echo_mismatch/2, first_difference/3]).

-define(M32, 16#FFFFFFFF).

fnv_new() -> {16#cbf29ce4, 16#84222325}.

fnv_add({Hi, Lo}, Bin) -> fnv(Bin, Hi, Lo).

%% Hi and Lo travel as arguments, not a tuple: no allocation per byte.
fnv(<<B, Rest/binary>>, Hi, Lo) ->
    L = Lo bxor B,
    P = L * 16#1b3,
    fnv(Rest, (Hi * 16#1b3 + (P bsr 32) + (L bsl 8)) band ?M32, P band ?M32);
fnv(<<>>, Hi, Lo) -> {Hi, Lo}.

fnv_text({Hi, Lo}) -> iolist_to_binary(io_lib:format("fnv1a64:~8.16.0b~8.16.0b", [Hi, Lo])).

%% Bytes [Offset, Offset+Len) of the transfer pattern: byte i is the top byte of
%% i × 0x9E3779B97F4A7C15 mod 2^64. The pattern is built once per process up to the largest length
%% asked (a worker serves many transfer cells) and kept in a persistent term.
pattern(Offset, Len) ->
    Need = Offset + Len,
    Have = persistent_term:get(otp_pattern, <<>>),
    Bin = case byte_size(Have) >= Need of
              true -> Have;
              false ->
                  New = build(Need),
                  persistent_term:put(otp_pattern, New),
                  New
          end,
    binary:part(Bin, Offset, Len).

build(N) -> build(N, 0, 0, []).
build(0, _, _, Acc) -> iolist_to_binary(lists:reverse(Acc));
build(N, Hi, Lo, Acc) ->
    K = min(N, 65536),
    {Chunk, Hi2, Lo2} = chunk(K, Hi, Lo, []),
    build(N - K, Hi2, Lo2, [Chunk | Acc]).

chunk(0, Hi, Lo, Acc) -> {list_to_binary(lists:reverse(Acc)), Hi, Lo};
chunk(K, Hi, Lo, Acc) ->
    S = Lo + 16#7F4A7C15,
    chunk(K - 1, (Hi + 16#9E3779B9 + (S bsr 32)) band ?M32, S band ?M32, [Hi bsr 24 | Acc]).

%% The digest of the pattern's first N bytes, cached like the pattern.
pattern_digest(N) ->
    case persistent_term:get({otp_pattern_digest, N}, undefined) of
        undefined ->
            D = fnv_add(fnv_new(), pattern(0, N)),
            persistent_term:put({otp_pattern_digest, N}, D),
            D;
        D -> D
    end.

first_difference(<<X, A/binary>>, <<X, B/binary>>, I) -> first_difference(A, B, I + 1);
first_difference(_, _, I) -> I.

%% "" when the echo is what was expected, else both lines escaped byte for byte, their lengths, and
%% the first differing byte (PEER-PROTOCOL.md, step 3).
echo_mismatch(Expected, Expected) -> <<>>;
echo_mismatch(Expected, Received) ->
    At = first_difference(Expected, Received, 0),
    Detail = case {At < byte_size(Expected), At < byte_size(Received)} of
                 {true, true} -> io_lib:format("expected 0x~2.16.0B, got 0x~2.16.0B", [binary:at(Expected, At), binary:at(Received, At)]);
                 {true, false} -> "the echo ends there";
                 _ -> "the echo goes on"
             end,
    iolist_to_binary(io_lib:format("echo mismatch: expected ~B bytes ~s, got ~B bytes ~s; first difference at byte ~B (~s)",
                                   [byte_size(Expected), escaped(Expected), byte_size(Received), escaped(Received), At, Detail])).

escaped(Bin) -> [$", [esc(C) || <<C>> <= Bin], $"].
esc($") -> "\\\"";
esc($\\) -> "\\\\";
esc($\n) -> "\\n";
esc($\r) -> "\\r";
esc($\t) -> "\\t";
esc(C) when C >= 16#20, C =< 16#7E -> C;
esc(C) -> io_lib:format("\\x~2.16.0B", [C]).
