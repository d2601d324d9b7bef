%% One cell, server or client, from socket to close_notify: its connections (two when
%% resuming), each a handshake, the echo or the transfer, and the close, all within the deadline
%% of --timeout-ms. OTP ssl drives its sockets itself (non-blocking, through the BEAM's poll
%% set); every call here carries the time left as its timeout.
-module(otp_cell).
-export([run/1]).

-define(CHUNK, 65536).

%% Runs one parsed request, prints its result line and returns the exit code.
run(Req) ->
    Deadline = now_ms() + maps:get(timeout_ms, Req),
    put(otp_cell, #{req => Req, deadline => Deadline, views => [], exchange => undefined, handshake_ms => null}),
    Outcome = try
                  case prepare(Req) of
                      {ok, Ready, Common} ->
                          put_cell(req, Ready),
                          case maps:get(role, Ready) of
                              server -> serve(Ready, Common);
                              client -> connect(Ready, Common)
                          end;
                      Other -> Other
                  end
              catch
                  throw:{failed, F} -> {failed, F};
                  Class:Reason:Stack ->
                      {failed, otp_failure:new(setup, io_lib:format("peer-otp crashed: ~p:~0p at ~0p", [Class, Reason, Stack]))}
              end,
    flush_mailbox(),
    report(Req, Outcome).

%% What OTP cannot do is decided before any socket: the version under the default policy, a
%% suite or group it lacks, tickets at TLS 1.2 (OTP implements RFC 5077 for no version: its
%% session_tickets are TLS 1.3's), session ids at TLS 1.3, a PSK without a PSK suite. Then this
%% side's files are read: the request comes back with the key of --psk as psk_key.
prepare(Req) ->
    case otp_config:versions(Req) of
        {unsupported, R} -> {unsupported, R};
        {ok, Versions} ->
            case {maps:get(resume, Req), Versions} of
                {ticket, Vs} when Vs =/= ['tlsv1.3'] ->
                    {unsupported, "OTP ssl has no RFC 5077 session tickets: its session_tickets option is TLS 1.3's"};
                {session_id, ['tlsv1.3']} ->
                    {unsupported, "TLS 1.3 has no session-id resumption"};
                _ when Versions =:= [] -> {unsupported, "no version left to offer"};
                _ ->
                    case maps:get(key_update, Req) andalso not lists:member('tlsv1.3', Versions) of
                        true -> {unsupported, "KeyUpdate is a TLS 1.3 message"};
                        false ->
                            case otp_config:common(Req, Versions) of
                                {unsupported, R} -> {unsupported, R};
                                {ok, Common} ->
                                    case {otp_config:check_files(Req), read_psk(maps:get(psk, Req))} of
                                        {ok, {ok, Key}} -> {ok, Req#{psk_key => Key}, Common};
                                        {{setup, M}, _} -> {failed, otp_failure:new(setup, M)};
                                        {_, {setup, M}} -> {failed, otp_failure:new(setup, M)}
                                    end
                            end
                    end
            end
    end.

read_psk(undefined) -> {ok, undefined};
read_psk(File) -> otp_psk:read(File).

report(Req, Outcome) ->
    Cell = get(otp_cell),
    {Status, Reason, Error, Code} =
        case Outcome of
            ok ->
                otp_out:log("done: handshake, echo and close_notify both ways"),
                {<<"ok">>, null, null, 0};
            {unsupported, R} ->
                Text = unicode:characters_to_binary(R),
                otp_out:log("unsupported: ~ts", [Text]),
                {<<"unsupported">>, Text, null, 3};
            {failed, F} ->
                Alert = case maps:get(alert, F) of
                            undefined -> "";
                            A -> io_lib:format(" (alert ~s ~s)", [A, maps:get(direction, F)])
                        end,
                otp_out:log("failed at ~s: ~ts~s", [maps:get(stage, F), maps:get(message, F), Alert]),
                {<<"failed">>, null, otp_failure:to_json(F), 1}
        end,
    Views = lists:reverse(maps:get(views, Cell)),
    ViewPairs = case Views of
                    [] -> [{view, null}];
                    [One] -> [{view, One}];
                    _ -> [{view, lists:last(Views)}, {views, Views}]
                end,
    Exchange = case maps:get(exchange, Cell) of
                   undefined -> [];
                   X -> [{exchange, exchange_json(X)}]
               end,
    otp_out:finish({obj, [{event, <<"result">>}, {role, atom_to_binary(maps:get(role, Req), utf8)},
                          {library, otp_caps:library()}, {status, Status}, {reason, Reason}]
                         ++ ViewPairs ++ Exchange
                         ++ [{error, Error}, {handshake_ms, maps:get(handshake_ms, Cell)}]}),
    Code.

exchange_json(#{sent := S, received := R, digest_sent := DS, digest_received := DR}) ->
    {obj, [{bytes_sent, S}, {bytes_received, R},
           {digest_sent, otp_bytes:fnv_text(DS)}, {digest_received, otp_bytes:fnv_text(DR)},
           %% OTP has no callback that sees KeyUpdate messages.
           {key_updates_sent, null}, {key_updates_received, null}]}.

%%% The server

serve(Req, Common) ->
    Ref = make_ref(),
    Options = [binary, {active, false}, {ip, {127, 0, 0, 1}}, {nodelay, true}, {buffer, 65536}]
        ++ otp_config:server_options(Req, Common, {self(), Ref}),
    case ssl:listen(0, Options) of
        {error, Reason} ->
            {failed, otp_failure:new(setup, io_lib:format("ssl:listen: ~0p", [Reason]))};
        {ok, Listener} ->
            {ok, {_, Port}} = ssl:sockname(Listener),
            otp_out:listening(Port),
            otp_out:log("otp ssl ~s server listening on 127.0.0.1:~B", [otp_caps:ssl_version(), Port]),
            try each(otp_request:connections(Req), fun() -> serve_one(Req, Listener, Ref) end)
            after ssl:close(Listener)
            end
    end.

serve_one(Req, Listener, Ref) ->
    case ssl:transport_accept(Listener, remaining()) of
        {error, Reason} -> {failed, classify(Reason, tcp_accept, Ref)};
        {ok, Tls0} ->
            Start = now_us(),
            case ssl:handshake(Tls0, remaining()) of
                {error, Reason} ->
                    ssl:close(Tls0),
                    otp_psk:log_refused(Ref),
                    {failed, classify(Reason, handshake, Ref)};
                {ok, Tls} ->
                    converse(Tls, Ref, fun() -> established(Tls, server, Start, Ref), server_exchange(Req, Tls, Ref) end)
            end
    end.

server_exchange(Req, Tls, Ref) ->
    case maps:get(transfer, Req) of
        undefined ->
            Line = read_line(Tls, Ref),
            send(Tls, [Line, <<" pong\n">>], Ref);
        Total -> echo_transfer(Tls, Total, Ref)
    end,
    close(Tls, Ref).

%%% The client

connect(Req, Common) ->
    each(otp_request:connections(Req), fun() -> connect_one(Req, Common) end).

connect_one(Req, Common) ->
    Ref = make_ref(),
    Port = maps:get(port, Req),
    case gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}, {nodelay, true}, {buffer, 65536}], remaining()) of
        {error, Reason} -> {failed, classify(Reason, tcp_connect, Ref)};
        {ok, Tcp} ->
            otp_out:log("otp ssl ~s client connected to 127.0.0.1:~B", [otp_caps:ssl_version(), Port]),
            Options = otp_config:client_options(Req, Common, {self(), Ref}) ++ resumption(Req),
            Start = now_us(),
            case ssl:connect(Tcp, Options, remaining()) of
                {error, Reason} ->
                    gen_tcp:close(Tcp),
                    {failed, classify(Reason, handshake, Ref)};
                {ok, Tls} ->
                    converse(Tls, Ref, fun() -> established(Tls, client, Start, Ref), client_exchange(Req, Tls, Tcp, Ref) end)
            end
    end.

%% The second connection offers what the first one kept: its session (id and data, as
%% ssl:connection_information gives them) or the TLS 1.3 tickets that came with the echo.
resumption(Req) ->
    case {maps:get(resume, Req), get(otp_session)} of
        {session_id, {Id, Data}} -> [{reuse_session, {Id, Data}}];
        {ticket, [_ | _] = Tickets} -> [{use_ticket, Tickets}];
        _ -> []
    end.

client_exchange(Req, Tls, Tcp, Ref) ->
    case maps:get(key_update, Req) of
        true ->
            %% read_write: a KeyUpdate with update_requested (RFC 8446 §4.6.3).
            case ssl:update_keys(Tls, read_write) of
                ok -> otp_out:log("KeyUpdate sent with update_requested (ssl:update_keys/2)");
                {error, R} -> throw({failed, classify(R, data, Ref)})
            end;
        false -> ok
    end,
    case maps:get(transfer, Req) of
        undefined ->
            Message = unicode:characters_to_binary(maps:get(message, Req)),
            send(Tls, [Message, $\n], Ref),
            Echo = read_line(Tls, Ref),
            case otp_bytes:echo_mismatch(<<Message/binary, " pong">>, Echo) of
                <<>> -> ok;
                Mismatch -> throw({failed, ours(data, Mismatch)})
            end;
        Total -> send_transfer(Tls, Total, Ref)
    end,
    keep_session(Req, Tls),
    case maps:get(truncate, Req) of
        true ->
            %% Ends TCP under OTP, which then has no socket to send close_notify on.
            otp_out:log("closing without close_notify, as asked"),
            gen_tcp:close(Tcp);
        false -> close(Tls, Ref)
    end.

keep_session(#{resume := session_id}, Tls) ->
    {ok, [{session_id, Id}, {session_data, Data}]} = ssl:connection_information(Tls, [session_id, session_data]),
    put(otp_session, {Id, Data});
keep_session(#{resume := ticket}, _Tls) ->
    %% session_tickets manual: OTP hands each NewSessionTicket to the socket's owner.
    Tickets = tickets([]),
    otp_out:log("~B session ticket(s) kept for the next connection", [length(Tickets)]),
    put(otp_session, Tickets);
keep_session(_, _) -> ok.

tickets(Acc) ->
    receive {ssl, session_ticket, Ticket} -> tickets([Ticket | Acc])
    after 0 -> lists:reverse(Acc)
    end.

%%% Both roles

each(0, _Fun) -> ok;
each(N, Fun) ->
    case Fun() of
        ok -> each(N - 1, Fun);
        Failure -> Failure
    end.

%% After the handshake: the view, the key log, then the exchange. A failure this peer found
%% (an echo that differs, the deadline) still ends the connection with close_notify, at most
%% 250 ms; a failure OTP found has already sent OTP's own alert and closed.
converse(Tls, _Ref, Exchange) ->
    put_cell(exchange, #{sent => 0, received => 0, digest_sent => otp_bytes:fnv_new(), digest_received => otp_bytes:fnv_new()}),
    try Exchange() of
        ok -> ok
    catch throw:{failed, F} ->
            case maps:get(ours, F) of
                true ->
                    case ssl:close(Tls, max(0, min(250, remaining()))) of
                        ok -> otp_out:log("close_notify sent after the failure");
                        {error, R} -> otp_out:log("no close_notify after the failure: ~0p", [R])
                    end;
                false -> ssl:close(Tls)
            end,
            {failed, F}
    end.

%% A TLS 1.3 client whose certificate the server refused learns it only after its own handshake
%% ended (RFC 8446 §4.4.2.4): the connection may be gone before its view is read. Then the
%% refusal is the data's, with the alert a read still gets.
established(Tls, Role, Start, Ref) ->
    put_cell(handshake_ms, round((now_us() - Start) / 10) / 100),
    Psk = case maps:get(psk_key, get_cell(req)) of
              undefined -> undefined;
              _ -> Ref
          end,
    View = try otp_view:read(Tls, Role, known_sessions(Role), Psk)
           catch error:{badmatch, {error, Gone}} ->
                   Reason = case ssl:recv(Tls, 0, min(100, remaining())) of
                                {error, R} -> R;
                                _ -> Gone
                            end,
                   throw({failed, classify(Reason, data, Ref)})
           end,
    Id = case ssl:connection_information(Tls, [session_id]) of
             {ok, [{session_id, I}]} -> I;
             _ -> <<>>
         end,
    put(otp_issued, [Id | known_sessions(server)]),
    put_cell(views, [View | get_cell(views)]),
    {obj, Fields} = View,
    Resumed = case proplists:get_value(resumed, Fields) of true -> " (resumed)"; false -> "" end,
    otp_out:log("handshake done: ~s ~s peer ~ts~s",
                [proplists:get_value(version, Fields), proplists:get_value(library_suite, Fields),
                 case proplists:get_value(peer_certificate, Fields) of null -> <<"-">>; P -> P end, Resumed]),
    write_keylog(Tls).

known_sessions(server) -> case get(otp_issued) of undefined -> []; L -> L end;
known_sessions(client) ->
    case get(otp_session) of
        {Id, _Data} -> [Id];
        _ -> []
    end.

%% keep_secrets makes OTP keep the secrets, read back in the NSS key log format as `keylog`.
write_keylog(Tls) ->
    case maps:get(keylog, maps:get(req, get(otp_cell))) of
        undefined -> ok;
        File ->
            case ssl:connection_information(Tls, [keylog]) of
                {ok, [{keylog, Lines}]} ->
                    case file:write_file(File, [[L, $\n] || L <- Lines], [append]) of
                        ok -> ok;
                        {error, R} -> otp_out:log("key log ~ts: ~s", [File, file:format_error(R)])
                    end;
                Other -> otp_out:log("no key log from OTP: ~0p", [Other])
            end
    end.

send(Tls, Data, Ref) ->
    Bin = iolist_to_binary(Data),
    case ssl:send(Tls, Bin) of
        ok -> count(sent, Bin);
        {error, R} -> throw({failed, classify(R, data, Ref)})
    end.

count(Direction, Bin) ->
    X = get_cell(exchange),
    {CountKey, DigestKey} = case Direction of
                                sent -> {sent, digest_sent};
                                received -> {received, digest_received}
                            end,
    put_cell(exchange, X#{CountKey := maps:get(CountKey, X) + byte_size(Bin),
                          DigestKey := otp_bytes:fnv_add(maps:get(DigestKey, X), Bin)}).

%% Reads up to and excluding the first newline. ssl:recv reports a close_notify and a bare TCP
%% close alike (closed), so a line cut short says only that the connection closed.
read_line(Tls, Ref) -> read_line(Tls, Ref, <<>>).
read_line(Tls, Ref, Acc) ->
    case ssl:recv(Tls, 0, remaining()) of
        {ok, Data} ->
            count(received, Data),
            All = <<Acc/binary, Data/binary>>,
            case binary:split(All, <<"\n">>) of
                [Line, _] -> Line;
                [_] when byte_size(All) > 65536 -> throw({failed, ours(data, "no newline in 64 KiB of data")});
                [_] -> read_line(Tls, Ref, All)
            end;
        {error, closed} ->
            throw({failed, otp_failure:new(data, io_lib:format("the connection closed before a full line (~B bytes; OTP: closed)", [byte_size(Acc)]))});
        {error, R} -> throw({failed, classify(R, data, Ref)})
    end.

%% close_notify both ways: ssl:close/2 with a new owner sends this side's close_notify and waits
%% for the other side's, then hands back the TCP socket ({ok, Port}); a TCP end without
%% close_notify comes back as {error, tcp_closed} (the truncation RFC 8446 §6.1 and RFC 5246
%% §7.2.1 name). Then TCP closes at once.
close(Tls, Ref) ->
    Monitors = monitor_connection(Tls),
    %% The downgrade waits for the other side's close_notify; OTP notices a bare TCP end there only
    %% when the socket happens to be active, so a truncating client is waited for at most 1 s.
    case ssl:close(Tls, {self(), min(1000, remaining())}) of
        {ok, Tcp} -> settle(Monitors), close_tcp(Tcp), ok;
        {ok, Tcp, Data} ->
            settle(Monitors),
            close_tcp(Tcp),
            throw({failed, otp_failure:new(shutdown, io_lib:format("expected close_notify, got ~B more bytes of data", [byte_size(Data)]))});
        {error, timeout} ->
            throw({failed, otp_failure:new(shutdown, "no close_notify from the other side within 1 s of ours (OTP: timeout)",
                                           #{library_code => <<"timeout">>})});
        {error, tcp_closed} ->
            throw({failed, otp_failure:new(shutdown, "the stream ended without close_notify (a truncation, RFC 8446 §6.1; OTP: tcp_closed)",
                                           #{library_code => <<"tcp_closed">>})});
        {error, closed} ->
            throw({failed, otp_failure:new(shutdown, "the connection closed without close_notify (OTP: closed)",
                                           #{library_code => <<"closed">>})});
        {error, R} -> throw({failed, classify(R, shutdown, Ref)})
    end.

%% TCP ends with a FIN, and what the other side still sends is read away (at most 250 ms):
%% closing a socket with unread bytes makes the kernel answer with a reset, which can cost the
%% other side the close_notify still in its receive buffer.
close_tcp(Tcp) ->
    _ = gen_tcp:shutdown(Tcp, write),
    drain(Tcp, now_ms() + min(250, remaining())),
    gen_tcp:close(Tcp).

drain(Tcp, Until) ->
    case gen_tcp:recv(Tcp, 0, max(0, Until - now_ms())) of
        {ok, _} -> drain(Tcp, Until);
        _ -> ok
    end.

%% OTP's connection process answers the downgrade as soon as the other side's close_notify is in,
%% but hands its own close_notify to its sender process with a cast: closing TCP at once lost it
%% now and then (an NSS client then reported a truncation). So TCP closes once the connection's
%% processes (the pids an sslsocket carries) have ended, at most 250 ms and not past the deadline.
monitor_connection({sslsocket, _, Pids}) when is_list(Pids) ->
    [erlang:monitor(process, P) || P <- Pids, is_pid(P)];
monitor_connection(_) -> [].

settle(Monitors) ->
    Until = now_ms() + min(250, remaining()),
    lists:foreach(fun(M) ->
                          receive {'DOWN', M, process, _, _} -> ok
                          after max(0, Until - now_ms()) -> erlang:demonitor(M, [flush])
                          end
                  end, Monitors).

%%% The transfer

%% The client writes the pattern from a process of its own while this one reads the echo: the
%% server echoes as it reads, so writing everything first would deadlock once both sides' socket
%% buffers fill. OTP's sender process lets one process write while another reads.
send_transfer(Tls, Total, Ref) ->
    Self = self(),
    {Writer, Monitor} = spawn_monitor(fun() -> Self ! {otp_written, self(), write_pattern(Tls, 0, Total)} end),
    try receive_pattern(Tls, Total, Ref, none) of
        ok ->
            receive
                {otp_written, Writer, {ok, Sent}} ->
                    erlang:demonitor(Monitor, [flush]),
                    put_cell(exchange, (get_cell(exchange))#{sent := Sent, digest_sent := otp_bytes:pattern_digest(Sent)}),
                    otp_out:log("transfer done: ~B bytes each way, ~s",
                                [Total, otp_bytes:fnv_text(maps:get(digest_received, get_cell(exchange)))]);
                {otp_written, Writer, {error, Sent, R}} ->
                    erlang:demonitor(Monitor, [flush]),
                    put_cell(exchange, (get_cell(exchange))#{sent := Sent, digest_sent := otp_bytes:pattern_digest(Sent)}),
                    throw({failed, classify(R, data, Ref)});
                {'DOWN', Monitor, process, Writer, Why} ->
                    throw({failed, otp_failure:new(data, io_lib:format("the writer ended: ~0p", [Why]))})
            after max(0, remaining()) ->
                    throw({failed, classify(timeout, data, Ref)})
            end
    after
        exit(Writer, kill)
    end.

write_pattern(_Tls, Sent, Total) when Sent >= Total -> {ok, Sent};
write_pattern(Tls, Sent, Total) ->
    N = min(?CHUNK, Total - Sent),
    case ssl:send(Tls, otp_bytes:pattern(Sent, N)) of
        ok -> write_pattern(Tls, Sent + N, Total);
        {error, R} -> {error, Sent, R}
    end.

%% The server reads the pattern and writes back each chunk as it comes; ssl:send returns once
%% OTP's sender took it, which bounds what this side holds unechoed to about one chunk.
echo_transfer(Tls, Total, Ref) ->
    receive_pattern(Tls, Total, Ref, fun(Chunk) -> send(Tls, Chunk, Ref) end),
    otp_out:log("transfer done: ~B bytes each way, ~s",
                [Total, otp_bytes:fnv_text(maps:get(digest_received, get_cell(exchange)))]).

receive_pattern(Tls, Total, Ref, Echo) ->
    Received = maps:get(received, get_cell(exchange)),
    case Received >= Total of
        true -> ok;
        false ->
            case ssl:recv(Tls, 0, remaining()) of
                {ok, Chunk} ->
                    Expected = otp_bytes:pattern(Received, min(byte_size(Chunk), max(0, Total - Received))),
                    case Chunk =:= Expected of
                        true -> ok;
                        false ->
                            At = otp_bytes:first_difference(Chunk, Expected, 0),
                            Got = case At < byte_size(Chunk) of true -> binary:at(Chunk, At); false -> none end,
                            throw({failed, ours(data, io_lib:format("byte ~B of the transfer is ~s, not 0x~2.16.0B as the pattern has it",
                                                                    [Received + At, hex(Got), pattern_byte(Received + At)]))})
                    end,
                    count(received, Chunk),
                    case Echo of none -> ok; _ -> Echo(Chunk) end,
                    receive_pattern(Tls, Total, Ref, Echo);
                {error, closed} ->
                    throw({failed, otp_failure:new(data, io_lib:format("the connection closed after ~B of ~B bytes (OTP: closed)", [Received, Total]))});
                {error, R} -> throw({failed, classify(R, data, Ref)})
            end
    end.

pattern_byte(I) -> binary:at(otp_bytes:pattern(I, 1), 0).
hex(none) -> "past the end of the transfer";
hex(B) -> io_lib:format("0x~2.16.0B", [B]).

%%% Helpers

%% A failure from an ssl or gen_tcp call, with the certificate refusals this connection's verify
%% fun reported.
classify(Reason, Stage, Ref) ->
    Req = maps:get(req, get(otp_cell)),
    otp_failure:classify(Reason, Stage, #{role => maps:get(role, Req), client_auth => maps:get(client_auth, Req),
                                          timeout_ms => maps:get(timeout_ms, Req), verify => verify_events(Ref, [])}).

verify_events(Ref, Acc) ->
    receive {otp_verify, Ref, Reason, NotYetValid} -> verify_events(Ref, [{Reason, NotYetValid} | Acc])
    after 0 -> lists:reverse(Acc)
    end.

ours(Stage, Message) -> otp_failure:new(Stage, Message, #{ours => true}).

remaining() -> max(0, maps:get(deadline, get(otp_cell)) - now_ms()).

now_ms() -> erlang:monotonic_time(millisecond).
now_us() -> erlang:monotonic_time(microsecond).

get_cell(Key) -> maps:get(Key, get(otp_cell)).
put_cell(Key, Value) -> put(otp_cell, (get(otp_cell))#{Key => Value}).

%% Nothing of a cell outlives it in a worker: stray messages (tickets, verify notes, a closed
%% socket's notices) are dropped.
flush_mailbox() ->
    erase(otp_session),
    erase(otp_issued),
    receive _ -> flush_mailbox()
    after 0 -> ok
    end.
