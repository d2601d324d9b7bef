%% `peer-otp worker`: one request per stdin line (a JSON array of the arguments a one-cell peer
%% gets), each run on a fresh configuration, until end of input. The BEAM's start-up and ssl's
%% (about half a second) are paid once per worker instead of once per cell.
-module(otp_worker).
-export([run/0]).

run() ->
    watch_parent(os:getenv("INTEROP_MATRIX_PARENT_PID")),
    preload(),
    %% stdin is read through a port of its own: the launcher starts the BEAM with -noinput, so
    %% no io server reads it. {line, N} hands over whole lines.
    Port = open_port({fd, 0, 1}, [in, binary, eof, {line, 16 * 1024 * 1024}]),
    loop(Port, <<>>).

loop(Port, Partial) ->
    receive
        {Port, {data, {noeol, Part}}} -> loop(Port, <<Partial/binary, Part/binary>>);
        {Port, {data, {eol, Part}}} ->
            request(<<Partial/binary, Part/binary>>),
            loop(Port, <<>>);
        {Port, eof} ->
            case Partial of <<>> -> ok; _ -> request(Partial) end,
            ok
    end.

request(Line) ->
    case string:trim(Line) of
        <<>> -> ok;
        Text ->
            case otp_json:decode_string_array(Text) of
                error -> usage("a request must be a JSON array of strings");
                {ok, Args} ->
                    case otp_request:parse(Args) of
                        {usage, Message} -> usage("peer-otp: " ++ Message);
                        {ok, Req} ->
                            %% Each cell in a process of its own: a fresh process dictionary
                            %% and mailbox, and nothing of it left behind when it ends.
                            {Pid, Ref} = spawn_monitor(fun() ->
                                                               otp_out:start(true),
                                                               exit({cell_done, otp_cell:run(Req)})
                                                       end),
                            receive {'DOWN', Ref, process, Pid, _} -> ok end
                    end
            end
    end.

%% The BEAM loads modules when first called; a worker loads those of ssl, public_key and crypto
%% before it reads its first request, so its first cell's handshake is as quick as the others.
preload() ->
    Modules = lists:append([M || App <- [crypto, asn1, public_key, ssl],
                                 {ok, M} <- [begin _ = application:load(App), application:get_key(App, modules) end]]),
    _ = code:ensure_modules_loaded(Modules),
    ok.

usage(Message) ->
    otp_out:emit({obj, [{event, <<"usage">>}, {message, unicode:characters_to_binary(Message)}]}).

%% The worker ends as soon as the runner that started it is gone: its parent then changes
%% (/proc/self/stat's ppid; the launcher execs the BEAM, so the runner is its parent). End of
%% stdin, which the runner's death brings too, ends it as well.
watch_parent(false) -> ok;
watch_parent(Text) ->
    case string:to_integer(Text) of
        {Pid, ""} when Pid > 0 -> spawn(fun() -> watch(integer_to_list(Pid)) end);
        _ -> ok
    end.

watch(Pid) ->
    case parent() of
        Pid -> timer:sleep(200), watch(Pid);
        unknown -> ok;
        _ -> erlang:halt(0)
    end.

parent() ->
    case file:read_file("/proc/self/stat") of
        {ok, Stat} ->
            %% pid (comm) state ppid …: comm may hold spaces, so split after its closing paren.
            [_, After] = string:split(Stat, ")", trailing),
            [_State, PPid | _] = string:lexemes(After, " "),
            binary_to_list(PPid);
        _ -> unknown
    end.
