%% peer-otp: the interop-matrix peer for Erlang/OTP's ssl application
%% (Sources/PeerKit/PEER-PROTOCOL.md). The launcher starts the BEAM with `-s peer_otp main`
%% and the protocol's arguments after -extra.
-module(peer_otp).
-export([main/0]).

-define(USAGE, "usage: peer-otp capabilities | worker | server|client [options]; see Sources/PeerKit/PEER-PROTOCOL.md").

main() ->
    stderr_logger(),
    utf8_output(),
    Code = try dispatch(init:get_plain_arguments())
           catch Class:Reason:Stack ->
                   io:format(standard_error, "peer-otp: ~p:~0p at ~0p~n", [Class, Reason, Stack]),
                   70
           end,
    erlang:halt(Code, [{flush, true}]).

%% The lines are UTF-8 text (otp_json writes binaries), but under -noshell the BEAM's standard_io
%% and standard_error are latin1 devices, which write each non-ASCII character of such a binary
%% as one latin1 byte (a PSK identity "gerät" came out as "ger\xe4t").
utf8_output() ->
    ok = io:setopts(standard_io, [{encoding, unicode}]),
    ok = io:setopts(standard_error, [{encoding, unicode}]).

%% OTP's default log handler writes to stdout, which carries protocol lines only: its reports
%% (ssl's notices, a crash report) go to stderr instead.
stderr_logger() ->
    _ = logger:remove_handler(default),
    ok = logger:add_handler(default, logger_std_h, #{config => #{type => standard_error}}).

dispatch([]) -> io:put_chars(standard_error, [?USAGE, $\n]), 2;
dispatch(["--help" | _]) -> io:put_chars(standard_error, [?USAGE, $\n]), 0;
dispatch(["capabilities" | _]) ->
    case application:ensure_all_started(ssl) of
        {ok, _} -> otp_out:emit(otp_caps:capabilities()), 0;
        {error, R} -> io:format(standard_error, "peer-otp capabilities: ssl does not start: ~0p~n", [R]), 1
    end;
dispatch(["worker" | _]) -> {ok, _} = application:ensure_all_started(ssl), otp_worker:run(), 0;
dispatch(Args) ->
    case otp_request:parse(Args) of
        {usage, Message} -> io:format(standard_error, "peer-otp: ~ts~n", [Message]), 2;
        {ok, Req} ->
            {ok, _} = application:ensure_all_started(ssl),
            otp_out:start(false),
            otp_cell:run(Req)
    end.
