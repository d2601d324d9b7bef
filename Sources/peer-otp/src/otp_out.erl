%% Where a cell's lines go. Stdout carries protocol lines only; logs go to stderr for a one-cell
%% peer and into the result's `log` for a worker. The mode and the log live in the process
%% dictionary of the process running the cell (one cell at a time).
-module(otp_out).
-export([start/1, log/2, log/1, emit/1, listening/1, finish/1]).

start(Worker) ->
    put(otp_worker, Worker),
    put(otp_log, []).

log(Format, Args) -> log(io_lib:format(Format, Args)).
log(Text) ->
    Line = unicode:characters_to_binary(Text),
    case get(otp_worker) of
        true -> put(otp_log, [Line | get(otp_log)]);
        _ -> io:put_chars(standard_error, [Line, $\n])
    end.

%% One JSON line on stdout; io:put_chars returns once the io server has written it.
emit(Json) -> io:put_chars(standard_io, [otp_json:encode(Json), $\n]).

listening(Port) -> emit({obj, [{event, <<"listening">>}, {port, Port}]}).

finish({obj, Pairs}) ->
    case get(otp_worker) of
        true ->
            Log = iolist_to_binary([[L, $\n] || L <- lists:reverse(get(otp_log))]),
            emit({obj, Pairs ++ [{log, Log}]});
        _ -> emit({obj, Pairs})
    end.
